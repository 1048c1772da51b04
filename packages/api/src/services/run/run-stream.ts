import { withEventMeta } from "@orpc/server";
import type { Run, RunEvent } from "@vps-claude/contract";
import { isTerminalRunStatus, type RunEnd } from "@vps-claude/contract/box-agent";
import type { ApiDeps } from "../../deps";
import { getBoxRunRow, listRunEvents } from "./get-run";
import { toRunDto } from "./run-dto";
import type { RunRow } from "./run-origin";

/**
 * How often a subscriber looks at Postgres when the bus brought nothing: the fallback that keeps a
 * missed publish (Redis restarting, a process that ended the run without publishing) from leaving
 * a stream waiting forever.
 */
export const RUN_STREAM_POLL_MS = 3_000;
/** Stored events are read in pages of this many, so catching up on a long transcript stays bounded. */
const CATCH_UP_PAGE = 500;
/** Live events held for a slow reader; past this they are dropped and read back from Postgres. */
const INBOX_MAX_EVENTS = 5_000;
/**
 * After a `done` event, how long to wait for the run's record to be ended: the follower publishes
 * the event and commits the end in the same breath, but a stream must not answer a run still
 * `running` because it was a few milliseconds early.
 */
const END_COMMIT_WAIT_MS = 10_000;
const END_COMMIT_POLL_MS = 100;

/**
 * Live events from the bus, waiting for a reader. `take` waits until one arrives, the poll interval
 * passes, or the reader leaves (the signal), whichever is first.
 */
class EventInbox {
  private events: RunEvent[] = [];
  private overflowed = false;
  private wake: (() => void) | undefined;

  push(event: RunEvent): void {
    if (this.events.length >= INBOX_MAX_EVENTS) {
      this.events = [];
      this.overflowed = true;
    } else {
      this.events.push(event);
    }
    this.wake?.();
  }

  async take(timeoutMs: number, signal?: AbortSignal): Promise<{ events: RunEvent[]; overflowed: boolean }> {
    if (this.events.length === 0 && !this.overflowed && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        signal?.addEventListener("abort", done, { once: true });
        this.wake = done;
      });
    }
    const taken = { events: this.events, overflowed: this.overflowed };
    this.events = [];
    this.overflowed = false;
    return taken;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

/** The SSE id a client sends back as `Last-Event-ID`: a stored sequence number, else nothing to skip. */
export function parseLastEventId(lastEventId: string | undefined): number {
  if (lastEventId === undefined || !/^\d{1,9}$/.test(lastEventId.trim())) {
    return 0;
  }
  return Number(lastEventId.trim());
}

/**
 * The run as it ended. When the `done` event came before the record was ended (the end is still being
 * committed, or Postgres is away), the event's own account of the end fills in.
 */
function finishedRun(row: RunRow, done: RunEnd | undefined): Run {
  const run = toRunDto(row);
  if (isTerminalRunStatus(row.status) || !done) {
    return run;
  }
  return {
    ...run,
    status: done.status,
    sessionId: done.sessionId ?? run.sessionId,
    result: done.result,
    error: done.error,
    durationMs: done.durationMs,
    costUsd: done.costUsd,
    inputTokens: done.inputTokens,
    outputTokens: done.outputTokens,
    cacheReadTokens: done.cacheReadTokens,
    cacheWriteTokens: done.cacheWriteTokens,
  };
}

export interface RunStreamOptions {
  deps: ApiDeps;
  boxId: string;
  runId: string;
  /** Events up to this sequence number are skipped (the client's `Last-Event-ID`). */
  afterSeq?: number;
  /** The reader left: stop and let go of the subscription. */
  signal?: AbortSignal;
  pollIntervalMs?: number;
}

/**
 * A run's transcript, stored then live: each event once, in sequence order, tagged with its sequence
 * number as the SSE id, until the run ends; returns the finished run (`event: done` on the wire).
 * The `done` transcript event itself is not yielded: the returned run says everything it says.
 *
 * It subscribes to the bus before reading Postgres, so an event is either stored by the time of the
 * read or arrives on the bus afterwards; a gap in the live sequence (a publish lost, a slow reader)
 * is filled from Postgres, and Postgres is looked at every poll interval in any case.
 * Ends early when the signal aborts, returning the run as it is then.
 */
export async function* streamRunEvents({
  deps,
  boxId,
  runId,
  afterSeq = 0,
  signal,
  pollIntervalMs = RUN_STREAM_POLL_MS,
}: RunStreamOptions): AsyncGenerator<RunEvent, Run> {
  const inbox = new EventInbox();
  const unsubscribe = await deps.runEvents.subscribe(runId, (event) => inbox.push(event));
  try {
    let lastSent = afterSeq;
    let done: Extract<RunEvent, { type: "done" }> | undefined;
    /** Live events after a gap, held until the gap is filled. */
    const pending = new Map<number, RunEvent>();
    let readStore = true;
    /** Since when live events have waited for an earlier one that neither the bus nor Postgres had. */
    let gapSince: number | undefined;

    const accept = (event: RunEvent): boolean => {
      lastSent = event.seq;
      if (event.type === "done") {
        done = event;
        return false;
      }
      return true;
    };

    for (;;) {
      if (signal?.aborted) {
        return toRunDto(await getBoxRunRow({ db: deps.db, boxId, runId }));
      }
      if (readStore) {
        readStore = false;
        for (;;) {
          const page = await listRunEvents({ db: deps.db, runId, afterSeq: lastSent, limit: CATCH_UP_PAGE });
          for (const event of page) {
            if (accept(event)) {
              yield withEventMeta(event, { id: String(event.seq) });
            }
          }
          if (page.length < CATCH_UP_PAGE) {
            break;
          }
        }
        const row = await getBoxRunRow({ db: deps.db, boxId, runId });
        if (isTerminalRunStatus(row.status)) {
          return withEventMeta(finishedRun(row, done?.run), { id: String(lastSent) });
        }
      }
      for (const seq of pending.keys()) {
        if (seq <= lastSent) {
          pending.delete(seq);
        }
      }
      gapSince = pending.size > 0 && !pending.has(lastSent + 1) ? (gapSince ?? Date.now()) : undefined;
      // A gap Postgres did not fill within two polls will not be filled: go on past it.
      const skipGap = gapSince !== undefined && Date.now() - gapSince >= 2 * pollIntervalMs;
      for (const next of [...pending.values()].sort((a, b) => a.seq - b.seq)) {
        if (next.seq !== lastSent + 1 && !skipGap) {
          break;
        }
        pending.delete(next.seq);
        if (accept(next)) {
          yield withEventMeta(next, { id: String(next.seq) });
        }
      }
      if (done) {
        return withEventMeta(await waitForEndCommitted({ deps, boxId, runId, done: done.run, signal }), {
          id: String(lastSent),
        });
      }

      const { events, overflowed } = await inbox.take(pollIntervalMs, signal);
      // Nothing came within the interval, the inbox overflowed, or a `done` arrived whatever its seq
      // (an end recorded by cancel or the reconciler carries no place in the box's sequence).
      readStore = (events.length === 0 && !signal?.aborted) || overflowed;
      for (const event of events) {
        readStore ||= event.type === "done";
        if (event.seq > lastSent) {
          pending.set(event.seq, event);
        }
      }
      // A gap in the live sequence: the missing events are in Postgres (or soon will be).
      readStore ||= pending.size > 0 && !pending.has(lastSent + 1);
    }
  } finally {
    await unsubscribe().catch((error: unknown) =>
      deps.logger.warn({ err: error, runId }, "run stream: unsubscribing from run events failed"),
    );
  }
}

async function waitForEndCommitted({
  deps,
  boxId,
  runId,
  done,
  signal,
}: {
  deps: ApiDeps;
  boxId: string;
  runId: string;
  done: RunEnd;
  signal?: AbortSignal;
}): Promise<Run> {
  const deadline = Date.now() + END_COMMIT_WAIT_MS;
  for (;;) {
    const row = await getBoxRunRow({ db: deps.db, boxId, runId });
    if (isTerminalRunStatus(row.status) || Date.now() >= deadline || signal?.aborted) {
      return finishedRun(row, done);
    }
    await sleep(END_COMMIT_POLL_MS, signal);
  }
}

/**
 * Waits for a run to end and answers it as recorded: the stream above, read to its end. Bounded by
 * `timeoutMs` (the run's own limit and a grace, never shorter), after which the run is answered as it is.
 */
export async function waitForRunEnd({
  deps,
  boxId,
  runId,
  timeoutMs,
  signal,
}: {
  deps: ApiDeps;
  boxId: string;
  runId: string;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<Run> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const stream = streamRunEvents({
    deps,
    boxId,
    runId,
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  for (;;) {
    const step = await stream.next();
    if (step.done) {
      return step.value;
    }
  }
}
