import type { Database } from "@vps-claude/db";

/** Keys kept at most per database; past it the cache starts over (many users cost queries, not memory). */
const MAX_ENTRIES = 10_000;

interface Entry<T> {
  value: Promise<T>;
  loadedAt: number;
}

/**
 * A process-local cache of lookups that may be a little old (a month's spend, a user's caps), kept
 * per database handle so each platform, and each test's scratch database, has its own. Concurrent
 * askers share the query in flight; a failed lookup is not kept.
 */
export class PerDatabaseCache<T> {
  private readonly caches = new WeakMap<Database, Map<string, Entry<T>>>();

  private of(db: Database): Map<string, Entry<T>> {
    let cache = this.caches.get(db);
    if (!cache) {
      cache = new Map();
      this.caches.set(db, cache);
    }
    return cache;
  }

  /** The value loaded less than `maxAgeMs` ago, else `load()`'s (0 always loads, and keeps the result). */
  get(db: Database, key: string, maxAgeMs: number, load: () => Promise<T>): Promise<T> {
    const cache = this.of(db);
    const now = Date.now();
    const cached = cache.get(key);
    if (cached && now - cached.loadedAt < maxAgeMs) {
      return cached.value;
    }
    if (cache.size >= MAX_ENTRIES) {
      cache.clear();
    }
    const entry: Entry<T> = { value: load(), loadedAt: now };
    cache.set(key, entry);
    entry.value.catch(() => {
      if (cache.get(key) === entry) {
        cache.delete(key);
      }
    });
    return entry.value;
  }

  /** Drops one key (or, without one, everything of this database): the next ask loads afresh. */
  forget(db: Database, key?: string): void {
    if (key === undefined) {
      this.caches.delete(db);
    } else {
      this.caches.get(db)?.delete(key);
    }
  }
}
