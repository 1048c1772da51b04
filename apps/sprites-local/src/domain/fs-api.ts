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

/** Largest upload the filesystem API accepts in one request. */
export const MAX_FS_PAYLOAD = 256 * 1024 * 1024;
/** Chunks of a streamed read buffered ahead of a slow client before the helper is paused. */
const READ_HIGH_WATER_CHUNKS = 8;

export interface HelperReply {
  result: Record<string, unknown>;
  data: Buffer;
}

/** A streamed read: the size stat reported, and the bytes as they come from the helper. */
export interface HelperStream {
  size: number;
  body: ReadableStream<Uint8Array>;
}

interface HelperFrame {
  ok?: boolean;
  result?: Record<string, unknown>;
  stream?: boolean;
  chunk?: boolean;
  end?: boolean;
  code?: unknown;
  message?: unknown;
}

function encodeMessage(json: unknown, data: Buffer): Buffer[] {
  const head = Buffer.from(JSON.stringify(json), "utf8");
  const lengths = Buffer.alloc(4);
  lengths.writeUInt32BE(head.length);
  const dataLength = Buffer.alloc(4);
  dataLength.writeUInt32BE(data.length);
  return [lengths, head, dataLength, data];
}

/**
 * Splits the helper's output into frames. Bytes are kept as a list of chunks and joined once per
 * frame, so a large reply is copied once rather than on every chunk that arrives.
 */
class FrameReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete frame, or null until more bytes arrive. */
  next(): { json: HelperFrame; data: Buffer } | null {
    if (this.buffered < 4) {
      return null;
    }
    const jsonLength = this.peekUInt32(0);
    if (this.buffered < 8 + jsonLength) {
      return null;
    }
    const dataLength = this.peekUInt32(4 + jsonLength);
    if (this.buffered < 8 + jsonLength + dataLength) {
      return null;
    }
    this.take(4);
    const json = JSON.parse(this.take(jsonLength).toString("utf8")) as HelperFrame;
    this.take(4);
    return { json, data: this.take(dataLength) };
  }

  private peekUInt32(offset: number): number {
    const bytes = Buffer.alloc(4);
    let index = 0;
    let skip = offset;
    for (const chunk of this.chunks) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      for (let i = skip; i < chunk.length && index < 4; i += 1) {
        bytes[index] = chunk[i] ?? 0;
        index += 1;
      }
      skip = 0;
      if (index === 4) {
        break;
      }
    }
    return bytes.readUInt32BE(0);
  }

  private take(length: number): Buffer {
    const head = this.chunks[0];
    // The common case for data frames: one chunk holds it all, so no copy at all.
    if (head && head.length >= length) {
      this.chunks[0] = head.subarray(length);
      if (this.chunks[0].length === 0) {
        this.chunks.shift();
      }
      this.buffered -= length;
      return head.subarray(0, length);
    }
    const out = Buffer.allocUnsafe(length);
    let offset = 0;
    while (offset < length) {
      const chunk = this.chunks[0];
      if (!chunk) {
        break;
      }
      const needed = length - offset;
      if (chunk.length <= needed) {
        chunk.copy(out, offset);
        offset += chunk.length;
        this.chunks.shift();
      } else {
        chunk.copy(out, offset, 0, needed);
        this.chunks[0] = chunk.subarray(needed);
        offset += needed;
      }
    }
    this.buffered -= length;
    return out;
  }
}

interface Waiter {
  errorPath: string;
  /** Plain operations: one reply frame. */
  resolve?: (reply: HelperReply) => void;
  /** Streamed reads: the start frame, then chunks until the end frame. */
  resolveStream?: (stream: HelperStream) => void;
  reject: (error: FsError) => void;
  stream?: ReadableStreamDefaultController<Uint8Array>;
  /** The client stopped reading: the rest of the stream is drained and dropped. */
  cancelled?: boolean;
}

function helperError(json: HelperFrame, errorPath: string): FsError {
  const code = isFsErrorCode(json.code) ? json.code : "EIO";
  return new FsError(code, String(json.message ?? code), errorPath);
}

/**
 * The sprite's long-lived fs-helper.mjs process, started on first use. Node takes a noticeable
 * moment to start, so one helper serves all requests while the sprite is awake (sleep stops it).
 */
class FsHelperProcess {
  private child: ChildProcess | null = null;
  private reader = new FrameReader();
  private stderr = "";
  private readonly pending: Waiter[] = [];

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
      this.write(child, request, data);
    });
  }

  /** A read whose data is streamed; resolves once the helper has checked the file (size known). */
  callStream(
    sprite: ManagedSprite,
    request: Record<string, unknown>,
    errorPath: string,
  ): Promise<HelperStream> {
    const child = this.ensure(sprite);
    return new Promise<HelperStream>((resolveStream, reject) => {
      this.pending.push({ resolveStream, reject, errorPath });
      this.write(child, request, Buffer.alloc(0));
    });
  }

  private write(child: ChildProcess, request: Record<string, unknown>, data: Buffer): void {
    for (const part of encodeMessage(request, data)) {
      child.stdin?.write(part);
    }
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
    this.reader = new FrameReader();
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
        const error = new FsError("EIO", `filesystem helper failed: ${reason}`, waiter.errorPath);
        if (waiter.stream) {
          if (!waiter.cancelled) {
            waiter.stream.error(error);
          }
        } else {
          waiter.reject(error);
        }
      }
    };
    child.once("close", onGone);
    child.once("error", onGone);
    return child;
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    for (let frame = this.reader.next(); frame; frame = this.reader.next()) {
      const waiter = this.pending[0];
      if (!waiter) {
        continue;
      }
      this.dispatch(waiter, frame.json, frame.data);
    }
  }

  private dispatch(waiter: Waiter, json: HelperFrame, data: Buffer): void {
    if (waiter.stream) {
      if (json.chunk) {
        if (!waiter.cancelled) {
          waiter.stream.enqueue(new Uint8Array(data));
          // Backpressure: stop reading the helper (which then blocks on its pipe) until the client catches up.
          if ((waiter.stream.desiredSize ?? 1) <= 0) {
            this.child?.stdout?.pause();
          }
        }
        return;
      }
      this.pending.shift();
      if (!waiter.cancelled) {
        if (json.ok && json.end) {
          waiter.stream.close();
        } else {
          waiter.stream.error(helperError(json, waiter.errorPath));
        }
      }
      this.child?.stdout?.resume();
      return;
    }
    if (json.ok && json.stream && waiter.resolveStream) {
      const resolveStream = waiter.resolveStream;
      const size = Number(json.result?.size ?? 0);
      const body = new ReadableStream<Uint8Array>(
        {
          start: (controller) => {
            waiter.stream = controller;
          },
          pull: () => {
            this.child?.stdout?.resume();
          },
          cancel: () => {
            // The client went away: keep draining the helper so the next request's reply lines up.
            waiter.cancelled = true;
            this.child?.stdout?.resume();
          },
        },
        { highWaterMark: READ_HIGH_WATER_CHUNKS },
      );
      resolveStream({ size, body });
      return;
    }
    this.pending.shift();
    if (json.ok && waiter.resolve) {
      waiter.resolve({ result: json.result ?? {}, data });
    } else {
      waiter.reject(helperError(json, waiter.errorPath));
    }
  }
}

const helpers = new WeakMap<ManagedSprite, FsHelperProcess>();

function helperFor(sprite: ManagedSprite): FsHelperProcess {
  let helper = helpers.get(sprite);
  if (!helper) {
    helper = new FsHelperProcess();
    helpers.set(sprite, helper);
  }
  return helper;
}

/** Runs one operation in the sprite's sandbox through its filesystem helper. */
export async function runFsOperation(
  sprite: ManagedSprite,
  request: Record<string, unknown>,
  errorPath: string,
  data: Buffer = Buffer.alloc(0),
): Promise<HelperReply> {
  const release = sprite.hold();
  try {
    return await helperFor(sprite).call(sprite, request, data, errorPath);
  } finally {
    release();
  }
}

/**
 * Reads a file as a stream. The helper stats it first and refuses one over `maxBytes` (EFBIG, 413)
 * before reading a byte; the sprite stays awake until the stream ends.
 */
export async function readFileStream(
  sprite: ManagedSprite,
  helperPath: string,
  maxBytes: number,
  errorPath: string,
): Promise<HelperStream> {
  const release = sprite.hold();
  let started: HelperStream;
  try {
    started = await helperFor(sprite).callStream(
      sprite,
      { op: "read", path: helperPath, maxBytes },
      errorPath,
    );
  } catch (error) {
    release();
    throw error;
  }
  const reader = started.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
          return;
        }
        controller.enqueue(value);
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    async cancel(reason) {
      release();
      await reader.cancel(reason);
    },
  });
  return { size: started.size, body };
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
