import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { Hono } from "hono";
import { ApiError } from "../../domain/errors.js";
import { ExecSession, parseExecParams, StreamId } from "../../domain/exec.js";
import type { AppEnv } from "../context.js";

/**
 * HTTP exec frames carry no length: the client treats every chunk it reads as one frame, and fetch
 * hands a slow reader everything that arrived since its last read as one chunk. So frames stay small,
 * consecutive output of one stream is merged into one frame, and frames are spaced out (the first one
 * too, after the headers) so the reader takes each on its own. This is best effort, as on Fly: the SDK
 * itself recommends the WebSocket exec for anything that matters.
 */
const MAX_FRAME_PAYLOAD = 8 * 1024;
const FRAME_GAP_MS = 50;

class FrameQueue {
  private readonly frames: Array<{ stream: number; data: Buffer }> = [];
  private waiter: (() => void) | null = null;
  private ended = false;

  push(stream: number, data: Buffer): void {
    for (let offset = 0; offset < data.length; offset += MAX_FRAME_PAYLOAD) {
      this.frames.push({ stream, data: data.subarray(offset, offset + MAX_FRAME_PAYLOAD) });
    }
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The next frame (merged with following frames of the same stream), or null at the end. */
  async next(): Promise<Uint8Array | null> {
    while (this.frames.length === 0) {
      if (this.ended) {
        return null;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
    const first = this.frames.shift();
    if (!first) {
      return null;
    }
    const parts = [first.data];
    let size = first.data.length;
    while (first.stream !== StreamId.exit) {
      const following = this.frames[0];
      if (
        !following ||
        following.stream !== first.stream ||
        size + following.data.length > MAX_FRAME_PAYLOAD
      ) {
        break;
      }
      this.frames.shift();
      parts.push(following.data);
      size += following.data.length;
    }
    const frame = new Uint8Array(size + 1);
    frame[0] = first.stream;
    frame.set(Buffer.concat(parts), 1);
    return frame;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}

/** `POST …/exec`: the command's output as a chunked body of `[stream id][payload]` frames, ending in an exit frame. */
export function execHttpRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/", (c) => {
    const sprite = c.var.sprite;
    const params = parseExecParams(new URL(c.req.url));
    if (params.tty) {
      throw new ApiError("invalid_request", "TTY mode needs the WebSocket exec endpoint");
    }
    const queue = new FrameQueue();
    const session = new ExecSession(sprite, params, (stream, data) => queue.push(stream, data));
    const release = sprite.hold();
    if (params.stdin) {
      const raw = c.req.raw.body;
      const input = raw ? Readable.fromWeb(raw as NodeReadableStream<Uint8Array>) : null;
      if (input && session.child.stdin) {
        input.on("error", () => session.endStdin());
        input.pipe(session.child.stdin);
      } else {
        session.endStdin();
      }
    }
    void session.exited.then((code) => {
      queue.push(StreamId.exit, Buffer.from([code & 0xff]));
      queue.end();
      release();
    });
    let lastSent = Date.now();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const frame = await queue.next();
          if (frame === null) {
            controller.close();
            return;
          }
          const wait = lastSent + FRAME_GAP_MS - Date.now();
          if (wait > 0) {
            await new Promise((resolve) => setTimeout(resolve, wait));
          }
          lastSent = Date.now();
          controller.enqueue(frame);
        },
        cancel() {
          session.kill();
          release();
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: 200, headers: { "content-type": "application/octet-stream" } });
  });

  return app;
}
