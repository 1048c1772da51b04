import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { FsError, isFsErrorCode } from "./errors.js";
import type { ManagedSprite } from "./managed-sprite.js";

const posix = path.posix;
const MAX_SYMLINK_HOPS = 40;

/**
 * Resolves an API path the way the sprite would see it and refuses anything outside the sprite's
 * own storage (/home/sprite and /tmp): `..` escapes, absolute paths elsewhere, and symlinks that lead out.
 * The operation itself then runs inside the sandbox as the sprite's user (see fs-helper.mjs), so a
 * symlink swapped in after this check still cannot reach beyond what the sprite may touch.
 */
export function resolveSpritePath(
  sprite: ManagedSprite,
  rawPath: unknown,
  workingDir: unknown,
  followFinal: boolean,
): { view: string; helperPath: string } {
  if (typeof rawPath !== "string" || rawPath.length === 0) {
    throw new FsError("EINVAL", "a non-empty `path` is required", "");
  }
  if (rawPath.includes("\0") || (typeof workingDir === "string" && workingDir.includes("\0"))) {
    throw new FsError("EINVAL", "paths must not contain NUL bytes", rawPath);
  }
  const base = typeof workingDir === "string" && workingDir.length > 0 ? workingDir : "/";
  const joined = posix.isAbsolute(rawPath)
    ? rawPath
    : posix.join(posix.isAbsolute(base) ? base : `/${base}`, rawPath);
  const normalized = posix.normalize(joined);
  const sandbox = sprite.sandbox;
  const target = sprite.target;
  if (sandbox.viewToHost(target, normalized) === null) {
    throw new FsError(
      "EACCES",
      `'${rawPath}' is outside the sprite's filesystem (the filesystem API serves /home/sprite and /tmp)`,
      rawPath,
    );
  }

  let pending = normalized.split("/").filter(Boolean);
  let current = "/";
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() ?? "";
    const next = posix.join(current, part);
    const host = sandbox.viewToHost(target, next);
    if (host === null) {
      current = next;
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(host);
    } catch {
      current = posix.join(next, ...pending);
      pending = [];
      break;
    }
    const isFinal = pending.length === 0;
    if (stat.isSymbolicLink() && (!isFinal || followFinal)) {
      hops += 1;
      if (hops > MAX_SYMLINK_HOPS) {
        throw new FsError("ELOOP", `too many levels of symbolic links in '${rawPath}'`, rawPath);
      }
      const link = fs.readlinkSync(host);
      const resolved = posix.normalize(posix.isAbsolute(link) ? link : posix.join(current, link));
      if (sandbox.viewToHost(target, resolved) === null) {
        throw new FsError(
          "EACCES",
          `'${rawPath}' leads outside the sprite's filesystem through the symlink '${next}'`,
          rawPath,
        );
      }
      pending = [...resolved.split("/").filter(Boolean), ...pending];
      current = "/";
      continue;
    }
    current = next;
  }
  // The operation gets the path as asked, not as resolved here: the chain was checked, and the
  // operation itself decides whether to follow a final symlink (list/stat describe the link itself).
  const helperPath = sandbox.confined ? normalized : (sandbox.viewToHost(target, normalized) ?? normalized);
  return { view: normalized, helperPath };
}

/** Largest file the filesystem API moves in one request. */
export const MAX_FS_PAYLOAD = 256 * 1024 * 1024;

export interface HelperReply {
  result: Record<string, unknown>;
  data: Buffer;
}

function encodeMessage(json: unknown, data: Buffer): Buffer {
  const head = Buffer.from(JSON.stringify(json), "utf8");
  const lengths = Buffer.alloc(4);
  lengths.writeUInt32BE(head.length);
  const dataLength = Buffer.alloc(4);
  dataLength.writeUInt32BE(data.length);
  return Buffer.concat([lengths, head, dataLength, data]);
}

/**
 * The sprite's long-lived fs-helper.mjs process, started on first use. Node takes a noticeable
 * moment to start, so one helper serves all requests while the sprite is awake (sleep stops it).
 */
class FsHelperProcess {
  private child: ChildProcess | null = null;
  private buffer = Buffer.alloc(0);
  private stderr = "";
  private readonly pending: Array<{
    resolve: (reply: HelperReply) => void;
    reject: (error: FsError) => void;
    errorPath: string;
  }> = [];

  call(
    sprite: ManagedSprite,
    request: Record<string, unknown>,
    data: Buffer,
    errorPath: string,
  ): Promise<HelperReply> {
    const child = this.ensure(sprite);
    return new Promise<HelperReply>((resolve, reject) => {
      // Replies come back in request order, so a FIFO pairs them up.
      this.pending.push({ resolve, reject, errorPath });
      child.stdin?.write(encodeMessage(request, data));
    });
  }

  private ensure(sprite: ManagedSprite): ChildProcess {
    if (this.child) {
      return this.child;
    }
    const env = {
      PATH: sprite.sandbox.defaultPath(),
      HOME: sprite.sandbox.home(sprite.target),
      LANG: "C.UTF-8",
    };
    const child = sprite.spawn({ argv: sprite.sandbox.fsHelperArgv(), env });
    this.child = child;
    this.buffer = Buffer.alloc(0);
    this.stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => this.onData(chunk));
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-2000);
    });
    child.stdin?.on("error", () => {
      // Reported through the exit below.
    });
    const onGone = () => {
      if (this.child !== child) {
        return;
      }
      this.child = null;
      const failed = this.pending.splice(0);
      const reason = this.stderr.trim() || "the filesystem helper stopped";
      for (const waiter of failed) {
        waiter.reject(new FsError("EIO", `filesystem helper failed: ${reason}`, waiter.errorPath));
      }
    };
    child.once("close", onGone);
    child.once("error", onGone);
    return child;
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const jsonLength = this.buffer.readUInt32BE(0);
      if (this.buffer.length < 8 + jsonLength) {
        return;
      }
      const dataLength = this.buffer.readUInt32BE(4 + jsonLength);
      const total = 8 + jsonLength + dataLength;
      if (this.buffer.length < total) {
        return;
      }
      const json = JSON.parse(this.buffer.subarray(4, 4 + jsonLength).toString("utf8")) as {
        ok: boolean;
        result?: Record<string, unknown>;
        code?: unknown;
        message?: unknown;
      };
      const data = Buffer.from(this.buffer.subarray(8 + jsonLength, total));
      this.buffer = this.buffer.subarray(total);
      const waiter = this.pending.shift();
      if (!waiter) {
        continue;
      }
      if (json.ok) {
        waiter.resolve({ result: json.result ?? {}, data });
      } else {
        const code = isFsErrorCode(json.code) ? json.code : "EIO";
        waiter.reject(new FsError(code, String(json.message ?? code), waiter.errorPath));
      }
    }
  }
}

const helpers = new WeakMap<ManagedSprite, FsHelperProcess>();

/** Runs one operation in the sprite's sandbox through its filesystem helper. */
export async function runFsOperation(
  sprite: ManagedSprite,
  request: Record<string, unknown>,
  errorPath: string,
  data: Buffer = Buffer.alloc(0),
): Promise<HelperReply> {
  let helper = helpers.get(sprite);
  if (!helper) {
    helper = new FsHelperProcess();
    helpers.set(sprite, helper);
  }
  const release = sprite.hold();
  try {
    return await helper.call(sprite, request, data, errorPath);
  } finally {
    release();
  }
}

export function parseMode(value: unknown, errorPath: string): number | undefined {
  if (value === undefined || value === null || value === "") {
    return undefined;
  }
  const mode = typeof value === "number" ? value : Number.parseInt(String(value), 8);
  if (
    !Number.isInteger(mode) ||
    mode < 0 ||
    mode > 0o7777 ||
    (typeof value === "string" && !/^[0-7]{1,4}$/.test(value))
  ) {
    throw new FsError("EINVAL", `mode '${String(value)}' must be octal, like 0644`, errorPath);
  }
  return mode;
}
