import { lstat, mkdir, open, readFile, realpath } from "node:fs/promises";
import { extname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** Largest audio file speech_to_text sends (the platform's limit). */
export const MAX_AUDIO_BYTES = 10 * 1024 * 1024;

export class MediaPathError extends Error {
  override name = "MediaPathError";
}

const AUDIO_TYPES: Record<string, string> = {
  ".wav": "audio/wav",
  ".mp3": "audio/mpeg",
  ".flac": "audio/flac",
  ".ogg": "audio/ogg",
  ".opus": "audio/ogg",
  ".oga": "audio/ogg",
  ".webm": "audio/webm",
  ".m4a": "audio/mp4",
  ".mp4": "audio/mp4",
};

const isInside = (root: string, path: string) => path === root || path.startsWith(root + sep);

/** `~` for the home itself, `~/a/b` below it: what Claude is shown. */
export function displayPath(home: string, path: string): string {
  const rel = relative(home, path);
  return rel === "" ? "~" : `~/${rel.split(sep).join("/")}`;
}

/**
 * Resolves a path given by Claude (absolute, `~/…` or relative to the home) to a real file inside the
 * home: `..`, absolute paths elsewhere and symlinks that lead out are all refused.
 */
export async function resolveInsideHome(home: string, input: string): Promise<string> {
  if (input.includes("\u0000")) {
    throw new MediaPathError("the path contains a NUL character");
  }
  const realHome = await realpath(home);
  const expanded = input === "~" || input.startsWith("~/") ? join(home, input.slice(1)) : input;
  const candidate = isAbsolute(expanded) ? resolve(expanded) : resolve(home, expanded);
  if (!isInside(resolve(home), candidate) && !isInside(realHome, candidate)) {
    throw new MediaPathError(`'${input}' is outside the home directory; only files under ~ can be read`);
  }
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new MediaPathError(`'${input}' does not exist`);
    }
    throw error;
  }
  if (!isInside(realHome, real)) {
    throw new MediaPathError(`'${input}' leads outside the home directory (through a symlink); refused`);
  }
  return real;
}

export function audioMimeType(path: string): string {
  const type = AUDIO_TYPES[extname(path).toLowerCase()];
  if (type === undefined) {
    throw new MediaPathError(
      `'${extname(path) || path}' is not a known audio format; use one of ${Object.keys(AUDIO_TYPES).join(", ")}`,
    );
  }
  return type;
}

/** Reads an audio file from inside the home, refusing directories, devices and oversized files. */
export async function readHomeAudio(
  home: string,
  input: string,
): Promise<{ path: string; bytes: Buffer; mimeType: string }> {
  const path = await resolveInsideHome(home, input);
  const mimeType = audioMimeType(path);
  const info = await lstat(path);
  if (!info.isFile()) {
    throw new MediaPathError(`'${input}' is not a regular file`);
  }
  if (info.size > MAX_AUDIO_BYTES) {
    throw new MediaPathError(`'${input}' is ${info.size} bytes; the limit is ${MAX_AUDIO_BYTES} (10 MiB)`);
  }
  if (info.size === 0) {
    throw new MediaPathError(`'${input}' is empty`);
  }
  return { path, bytes: await readFile(path), mimeType };
}

/** `~/media/images` and the like, created on demand; a symlinked directory leading out is refused. */
export async function homeMediaDir(home: string, ...segments: string[]): Promise<string> {
  const dir = join(home, "media", ...segments);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const [realHome, realDir] = await Promise.all([realpath(home), realpath(dir)]);
  if (!isInside(realHome, realDir)) {
    throw new MediaPathError(`${displayPath(home, dir)} leads outside the home directory; refused`);
  }
  return realDir;
}

/** Writes a new file (never overwriting one, never through a symlink), bumping the name on a clash. */
export async function writeNewFile(
  dir: string,
  stem: string,
  extension: string,
  bytes: Buffer,
): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const path = join(dir, `${stem}${attempt === 0 ? "" : `-${attempt}`}.${extension}`);
    try {
      const handle = await open(path, "wx", 0o644);
      try {
        await handle.writeFile(bytes);
      } finally {
        await handle.close();
      }
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw error;
      }
    }
  }
  throw new Error(`could not find a free file name for ${stem}.${extension} in ${dir}`);
}

/** `20250131-142501-123`: sorts by time, safe in a file name. */
export function fileTimestamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace("T", "-")
    .replace(/\.(\d{3})Z$/, "-$1");
}
