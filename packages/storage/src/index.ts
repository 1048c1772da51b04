import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";

/** Where generated media and email attachments live. Local disk by default; keys are relative paths. */
export interface Storage {
  put(key: string, data: Buffer): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  /** Removes a key or a whole prefix ("attachments/email_…/"). */
  remove(keyOrPrefix: string): Promise<void>;
}

const SAFE_SEGMENT = /^[A-Za-z0-9._-]{1,200}$/;

/** Only plain, non-dot segments: a key can never climb out of the storage root. */
export function assertSafeKey(key: string): string[] {
  const segments = key.replace(/\/+$/, "").split("/");
  if (
    segments.length === 0 ||
    segments.some((segment) => !SAFE_SEGMENT.test(segment) || /^\.+$/.test(segment) || segment === "")
  ) {
    throw new Error(`unsafe storage key '${key}'`);
  }
  return segments;
}

/** File names from the outside world (attachments) turned into a safe key segment. */
export function safeFileName(name: string): string {
  const cleaned = name
    .replace(/[/\\]/g, "_")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^\.+/, "")
    .slice(0, 120);
  return cleaned.length > 0 ? cleaned : "file";
}

export function createLocalStorage({ dir }: { dir: string }): Storage {
  const root = resolve(dir);
  const pathOf = (key: string) => {
    const full = join(root, ...assertSafeKey(key));
    if (!full.startsWith(root + sep)) {
      throw new Error(`unsafe storage key '${key}'`);
    }
    return full;
  };
  return {
    async put(key, data) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, data, { mode: 0o600 });
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
          return undefined;
        }
        throw err;
      }
    },
    async remove(keyOrPrefix) {
      await rm(pathOf(keyOrPrefix), { recursive: true, force: true });
    },
  };
}
