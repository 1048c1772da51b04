import { asApiError } from "./api-error";
import { api } from "./orpc";
import type { Run, RunEvent } from "./runs";

/** A dropped stream is opened again after this long, doubling up to the cap while it keeps failing. */
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 10_000;

export type StreamConnection = "connecting" | "live" | "reconnecting";

interface FollowRunOptions {
  boxId: string;
  runId: string;
  /** The sequence number of the last event the caller already has (0: none). */
  afterSeq: number;
  signal: AbortSignal;
  onEvent: (event: RunEvent) => void;
  onConnection?: (state: StreamConnection) => void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  });

/** An answer about the run itself (gone, not the user's, signed out) ends following; anything else is the network. */
function isFinal(error: unknown): boolean {
  const status = asApiError(error)?.status;
  return status !== undefined && status >= 400 && status < 500;
}

/**
 * Follows a run's SSE stream (`run.stream`) to its end and answers the finished run. A connection
 * that drops, or ends without the stream's `done`, is opened again with `Last-Event-ID` set to the
 * last event received, so the server sends only what came after it: nothing is shown twice or lost.
 */
export async function followRun(options: FollowRunOptions): Promise<Run> {
  const { boxId, runId, signal, onEvent, onConnection } = options;
  let afterSeq = options.afterSeq;
  let delay = RECONNECT_FIRST_MS;
  onConnection?.("connecting");
  for (;;) {
    try {
      const stream = await api.run.stream(
        { boxId, runId },
        { signal, ...(afterSeq > 0 ? { lastEventId: String(afterSeq) } : {}) },
      );
      onConnection?.("live");
      for (;;) {
        const next = await stream.next();
        if (next.done) {
          if (next.value) {
            return next.value;
          }
          break;
        }
        afterSeq = Math.max(afterSeq, next.value.seq);
        delay = RECONNECT_FIRST_MS;
        onEvent(next.value);
      }
    } catch (error) {
      if (signal.aborted || isFinal(error)) {
        throw error;
      }
    }
    onConnection?.("reconnecting");
    await sleep(delay, signal);
    if (signal.aborted) {
      throw signal.reason;
    }
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  }
}
