import { ApiError } from "../domain/errors.js";
import type { ManagedSprite } from "../domain/managed-sprite.js";

const encoder = new TextEncoder();

export type SendLine = (value: Record<string, unknown>) => void;

/**
 * An NDJSON response whose lines are produced by `run`. The sprite stays awake until the stream ends;
 * a failure after the headers went out becomes an `{"type":"error"}` line.
 */
export function ndjsonResponse(
  sprite: ManagedSprite,
  run: (send: SendLine, signal: AbortSignal) => Promise<void>,
  errorLine: (message: string) => Record<string, unknown>,
): Response {
  const release = sprite.hold();
  const abort = new AbortController();
  let closed = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send: SendLine = (value) => {
        if (!closed) {
          controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
        }
      };
      run(send, abort.signal)
        .catch((error: unknown) => {
          send(errorLine(error instanceof Error ? error.message : String(error)));
        })
        .finally(() => {
          release();
          if (!closed) {
            closed = true;
            controller.close();
          }
        });
    },
    cancel() {
      closed = true;
      abort.abort();
      release();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" },
  });
}

/** Parses Go-style durations as the API takes them ("5s", "500ms", "1m30s"). */
export function parseDuration(value: string | undefined, fallbackMs: number): number {
  if (value === undefined || value === "") {
    return fallbackMs;
  }
  if (/^\d+$/.test(value)) {
    return Number(value) * 1000;
  }
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = "";
  for (const match of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(match[1]) * (unitMs[match[2] ?? "s"] ?? 1000);
    consumed += match[0];
  }
  if (consumed !== value) {
    throw new ApiError("invalid_request", `duration '${value}' is not valid (examples: 5s, 500ms, 1m)`);
  }
  return total;
}

/** Resolves after `ms`, or earlier when the client goes away. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
