import { posix } from "node:path";
import type { box } from "@vps-claude/db";
import type { DirEntry } from "@vps-claude/sprites";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";

type BoxRow = typeof box.$inferSelect;

/** A box's home on Fly Sprites and, by construction, inside every sprites-local sandbox. */
export const BOX_HOME = "/home/sprite";
export const MAX_FILE_BYTES = 1024 * 1024;

export interface FilesDeps {
  deps: ApiDeps;
  target: BoxRow;
}

/**
 * Turns what the owner typed ("notes/todo.md", "~/notes", "/home/sprite/x") into an absolute path
 * that stays inside the box's home, or refuses it. Symlinks are resolved inside the box afterwards.
 */
export function resolveBoxPath(input: string): string {
  if (input.includes("\0")) {
    throw new ServiceError("BAD_REQUEST", "path must not contain NUL bytes");
  }
  const trimmed = input.trim() === "" || input.trim() === "~" ? "." : input.trim().replace(/^~\//, "");
  const absolute = posix.resolve(BOX_HOME, trimmed);
  if (absolute !== BOX_HOME && !absolute.startsWith(`${BOX_HOME}/`)) {
    throw new ServiceError("BAD_REQUEST", `path '${input}' is outside the box's home (${BOX_HOME})`);
  }
  return absolute;
}

function requireSandbox(target: BoxRow): string {
  if (target.status !== "running" || !target.spriteName) {
    throw new ServiceError(
      "CONFLICT",
      `the box is ${target.status}; its files are available once it is running`,
    );
  }
  return target.spriteName;
}

/** Follows symlinks inside the box and refuses a path whose real location is outside its home. */
async function realPathInHome({ deps }: FilesDeps, spriteName: string, path: string): Promise<string> {
  const result = await deps.sprites.exec(spriteName, 'realpath -m -- "$TARGET"', {
    env: { TARGET: path },
    timeoutMs: 15_000,
  });
  const real = result.stdout.trim();
  if (result.exitCode !== 0 || !real.startsWith("/")) {
    throw new ServiceError("BAD_REQUEST", `could not resolve '${path}' in the box`);
  }
  if (real !== BOX_HOME && !real.startsWith(`${BOX_HOME}/`)) {
    throw new ServiceError("BAD_REQUEST", `'${path}' leads outside the box's home (to ${real})`);
  }
  return real;
}

function fsError(err: unknown, path: string): never {
  const code = (err as { fsCode?: string; code?: string }).fsCode ?? (err as { code?: string }).code;
  if (code === "ENOENT" || code === "not_found") {
    throw new ServiceError("NOT_FOUND", `'${path}' does not exist in the box`);
  }
  if (code === "ENOTDIR" || code === "EISDIR") {
    throw new ServiceError(
      "BAD_REQUEST",
      `'${path}' is ${code === "EISDIR" ? "a directory" : "not a directory"}`,
    );
  }
  if (code === "EACCES" || code === "EPERM") {
    throw new ServiceError("FORBIDDEN", `'${path}' may not be accessed`);
  }
  throw err;
}

export async function listBoxFiles(
  ctx: FilesDeps,
  input: string,
): Promise<{ path: string; entries: (DirEntry & { path: string })[] }> {
  const spriteName = requireSandbox(ctx.target);
  const path = await realPathInHome(ctx, spriteName, resolveBoxPath(input));
  try {
    const entries = await ctx.deps.sprites.listDir(spriteName, path);
    return {
      path,
      entries: entries
        .map((entry) => ({ ...entry, path: posix.join(path, entry.name) }))
        .sort((a, b) =>
          (a.type === "dir") === (b.type === "dir")
            ? a.name.localeCompare(b.name)
            : a.type === "dir"
              ? -1
              : 1,
        ),
    };
  } catch (err) {
    fsError(err, path);
  }
}

function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Refuses a file too large to show before a byte of it is transferred (the box may hold gigabytes). */
async function assertShowableSize({ deps }: FilesDeps, spriteName: string, path: string): Promise<void> {
  const result = await deps.sprites.exec(spriteName, 'stat -L -c %s -- "$TARGET" 2>/dev/null', {
    env: { TARGET: path },
    timeoutMs: 15_000,
  });
  const size = Number(result.stdout.trim());
  // Not there or not statable: the read itself reports why.
  if (result.exitCode === 0 && Number.isFinite(size) && size > MAX_FILE_BYTES) {
    throw new ServiceError(
      "PAYLOAD_TOO_LARGE",
      `'${path}' is ${formatBytes(size)}; files over ${formatBytes(MAX_FILE_BYTES)} cannot be shown here (use the terminal to look at it in parts)`,
    );
  }
}

export async function readBoxFile(ctx: FilesDeps, input: string) {
  const spriteName = requireSandbox(ctx.target);
  const path = await realPathInHome(ctx, spriteName, resolveBoxPath(input));
  await assertShowableSize(ctx, spriteName, path);
  let content: Buffer;
  try {
    content = await ctx.deps.sprites.readFile(spriteName, path);
  } catch (err) {
    fsError(err, path);
  }
  if (content.length > MAX_FILE_BYTES) {
    throw new ServiceError(
      "PAYLOAD_TOO_LARGE",
      `'${path}' is ${content.length} bytes; files over ${MAX_FILE_BYTES} bytes cannot be shown`,
    );
  }
  const text = content.toString("utf8");
  const isText = !text.includes("\uFFFD") && !content.includes(0);
  return {
    path,
    size: content.length,
    encoding: isText ? ("utf8" as const) : ("base64" as const),
    content: isText ? text : content.toString("base64"),
  };
}

export async function writeBoxFile(
  ctx: FilesDeps,
  input: string,
  content: string,
  encoding: "utf8" | "base64",
) {
  const spriteName = requireSandbox(ctx.target);
  const data = Buffer.from(content, encoding);
  if (data.length > MAX_FILE_BYTES) {
    throw new ServiceError("PAYLOAD_TOO_LARGE", `files over ${MAX_FILE_BYTES} bytes cannot be written here`);
  }
  const path = await realPathInHome(ctx, spriteName, resolveBoxPath(input));
  if (path === BOX_HOME) {
    throw new ServiceError("BAD_REQUEST", "give a file path, not the home directory");
  }
  try {
    await ctx.deps.sprites.writeFile(spriteName, path, data, 0o644);
  } catch (err) {
    fsError(err, path);
  }
  return { path, size: data.length };
}
