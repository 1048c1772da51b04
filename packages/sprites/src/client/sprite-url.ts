import { SpritesError, toSpritesError } from "../errors.js";

/** "sprite": requests to the URL need the API token; "public": anyone may call it. */
export type UrlAuth = "sprite" | "public";

/** What the URL cache and lookups need of a sprite's record. */
interface SpriteUrlRecord {
  name: string;
  url: string | null;
  urlAuth: UrlAuth;
}

export interface WaitForUrlOptions {
  path?: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** When the answer counts as ready. Default: any 2xx. */
  isReady?: (response: Response) => boolean;
}

export interface SpriteUrlOperations {
  /**
   * A request to the sprite's public URL. Never carries the account token and never follows a
   * redirect (a 3xx comes back as the response): what answers there is the sprite's own program.
   */
  fetchSprite(name: string, path: string, init?: RequestInit): Promise<Response>;
  /** Polls the sprite URL until it answers ready (wakes the sprite and waits for its HTTP service). */
  waitForUrl(name: string, options?: WaitForUrlOptions): Promise<Response>;
}

/** One URL poll may not hang longer than this, however long the overall wait. */
const URL_ATTEMPT_TIMEOUT_MS = 10_000;

/** URL and auth mode per sprite; they change only through updates this client does not make. */
export class SpriteUrlCache {
  private readonly entries = new Map<string, { url: string; auth: UrlAuth }>();

  remember<T extends SpriteUrlRecord>(summary: T): T {
    if (summary.url) {
      this.entries.set(summary.name, { url: summary.url, auth: summary.urlAuth });
    }
    return summary;
  }

  get(name: string): { url: string; auth: UrlAuth } | undefined {
    return this.entries.get(name);
  }

  forget(name: string): void {
    this.entries.delete(name);
  }
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
}

/** Requests to sprite URLs; `getSprite` looks a URL up when the cache does not know it. */
export function spriteUrlOperations(
  urls: SpriteUrlCache,
  getSprite: (name: string) => Promise<SpriteUrlRecord | null>,
): SpriteUrlOperations {
  async function spriteUrl(name: string): Promise<{ url: string; auth: UrlAuth }> {
    const cached = urls.get(name);
    if (cached) {
      return cached;
    }
    const sprite = await getSprite(name);
    if (!sprite?.url) {
      throw new SpritesError("not_found", `sprite '${name}' has no URL (does it exist?)`);
    }
    return { url: sprite.url, auth: sprite.urlAuth };
  }

  /** The URL of a sprite whose URL is public; a private one would need the account token, which a sprite never gets. */
  async function publicSpriteUrl(name: string): Promise<string> {
    let target = await spriteUrl(name);
    if (target.auth !== "public") {
      // The cache may predate a switch to public made elsewhere.
      urls.forget(name);
      target = await spriteUrl(name);
    }
    if (target.auth !== "public") {
      throw new SpritesError(
        "forbidden",
        `sprite '${name}' has a private URL (url_settings.auth "sprite"); the account token is never sent to a sprite URL: make the URL public (createOrGetSprite with urlAuth "public") and let the sprite's service check its own token`,
        { retryable: false },
      );
    }
    return target.url;
  }

  async function fetchSprite(name: string, path: string, init: RequestInit = {}): Promise<Response> {
    const url = await publicSpriteUrl(name);
    try {
      return await fetch(joinUrl(url, path), { ...init, redirect: "manual" });
    } catch (error) {
      throw toSpritesError(error, `request to ${path} on sprite '${name}'`);
    }
  }

  return {
    fetchSprite,

    async waitForUrl(name, waitOptions = {}) {
      const path = waitOptions.path ?? "/";
      const timeoutMs = waitOptions.timeoutMs ?? 60_000;
      const intervalMs = waitOptions.intervalMs ?? 500;
      const isReady = waitOptions.isReady ?? ((response: Response) => response.ok);
      const deadline = Date.now() + timeoutMs;
      let last = "no answer yet";
      while (true) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new SpritesError(
            "timeout",
            `sprite '${name}' did not answer ${path} as ready within ${timeoutMs} ms (last: ${last})`,
            { retryable: false },
          );
        }
        try {
          const response = await fetchSprite(name, path, {
            signal: AbortSignal.timeout(Math.min(remaining, URL_ATTEMPT_TIMEOUT_MS)),
          });
          if (isReady(response)) {
            return response;
          }
          last = `HTTP ${response.status}`;
          await response.body?.cancel();
        } catch (error) {
          if (error instanceof SpritesError && !error.retryable) {
            throw error;
          }
          // An attempt cut short by the deadline says less than the answer before it.
          if (!(error instanceof SpritesError && error.code === "timeout" && last !== "no answer yet")) {
            last = error instanceof Error ? error.message : String(error);
          }
        }
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))),
        );
      }
    },
  };
}
