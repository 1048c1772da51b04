import { setTimeout as sleep } from "node:timers/promises";
import {
  isTerminalRunStatus,
  type RunCreate,
  type RunEvent,
  runCreateInput,
  runEventSchema,
} from "@vps-claude/contract/box-agent";
import { box, boxRun, boxRunEvent } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import { and, eq, isNull } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { BoxBadAnswerError, describeBox } from "../box-agent/box-agent-client";
import { completeRun, type RunDoneEvent, type RunEnding } from "./complete-run";
import { recordRunEvent } from "./record-run-event";
import { runDeadline } from "./run-deadline";
import type { RunRow } from "./run-origin";

type BoxRow = typeof box.$inferSelect;

export interface FollowRunInput {
  deps: ApiDeps;
  runId: string;
  /**
   * Stops following without ending the run (the worker is closing, the attempt ran out): the
   * follower throws the signal's reason, and whoever takes the job up next resumes where it stopped.
   */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * What became of the run: this follower ended it, someone else did (cancel, the reconciler), or it
 * is gone (its box was deleted, and the run with it).
 */
export type FollowOutcome = "ended" | "ended-elsewhere" | "gone";

/** One `POST /runs` may take this long (waking a sleeping sprite included). */
const DISPATCH_CALL_TIMEOUT_MS = 60_000;
const DISPATCH_CALL_MIN_TIMEOUT_MS = 5_000;
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

/** 1 s, 2 s, 4 s, … up to 30 s, with jitter so many followers of one box do not come back at once. */
function backoffMs(failures: number): number {
  const base = Math.min(BACKOFF_FIRST_MS * 2 ** Math.min(failures, 10), BACKOFF_MAX_MS);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw signal.reason;
  }
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A refusal no retry will change (the box has no such route, the dispatch is invalid); 408, 425, 429 and 5xx pass. */
const isFinalRefusal = (status: number) => status >= 400 && status < 500 && ![408, 425, 429].includes(status);

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

class RunFollower {
  private readonly logger: Logger;

  constructor(
    private readonly deps: ApiDeps,
    private readonly runId: string,
    private readonly signal: AbortSignal,
    logger: Logger,
  ) {
    this.logger = logger.child({ runId });
  }

  async loadRun(): Promise<RunRow | undefined> {
    const [run] = await this.deps.db.select().from(boxRun).where(eq(boxRun.id, this.runId)).limit(1);
    return run;
  }

  async loadBox(boxId: string): Promise<BoxRow | undefined> {
    const [row] = await this.deps.db.select().from(box).where(eq(box.id, boxId)).limit(1);
    return row;
  }

  async end(end: RunEnding): Promise<FollowOutcome> {
    const { ended } = await completeRun({ deps: this.deps, runId: this.runId, end });
    this.logger.info({ status: end.status, error: end.error, ended }, "run ended by its follower");
    return ended ? "ended" : "ended-elsewhere";
  }

  /** The run as it is now, or why there is nothing to follow any more. */
  async current(): Promise<RunRow | Exclude<FollowOutcome, "ended">> {
    const run = await this.loadRun();
    if (!run) {
      return "gone";
    }
    return isTerminalRunStatus(run.status) ? "ended-elsewhere" : run;
  }

  async follow(): Promise<FollowOutcome> {
    const run = await this.current();
    if (typeof run === "string") {
      return run;
    }
    if (!run.dispatchedAt) {
      const dispatch = runCreateInput.safeParse(run.dispatch);
      if (!dispatch.success) {
        return this.end({
          status: "failed",
          error: `the run's recorded dispatch cannot be read by this version of the platform (${dispatch.error.issues[0]?.message ?? "invalid"}); start it again`,
        });
      }
      const handedOver = await this.dispatch(run, dispatch.data);
      if (typeof handedOver === "string") {
        return handedOver;
      }
      // The events the box's answer carried (its `queued`) reach subscribers now, before the
      // stream is opened: with many runs starting at once, opening it is the slow part.
      let lastSeq = run.lastEventSeq;
      for (const event of handedOver.events) {
        if (event.seq <= lastSeq) {
          continue;
        }
        const ended = await this.take(run, event);
        lastSeq = event.seq;
        if (ended) {
          return ended === "ended-elsewhere" ? this.cancelledMeanwhile(run) : ended;
        }
      }
      const now = await this.current();
      if (now === "ended-elsewhere") {
        return this.cancelledMeanwhile(run);
      }
      if (typeof now === "string") {
        return now;
      }
      // Open the stream with the rows just read rather than reading them again.
      return this.followEvents({ run: now, target: handedOver.target });
    }
    return this.followEvents();
  }

  /** Cancelled on the platform while the dispatch was on its way: the box has it now, so tell it. */
  async cancelledMeanwhile(run: RunRow): Promise<FollowOutcome> {
    await this.cancelOnBox(run);
    return "ended-elsewhere";
  }

  /** Best effort: a box that cannot be told runs the run to its end, and nothing records it. */
  async cancelOnBox(run: RunRow): Promise<void> {
    const target = await this.loadBox(run.boxId);
    if (!target) {
      return;
    }
    try {
      await this.deps.boxAgent.call(target, "runs.cancel", { id: run.id }, { timeoutMs: 20_000 });
    } catch (err) {
      this.logger.warn({ err }, "could not cancel on the box a run that ended while it was being dispatched");
    }
  }

  /**
   * Hands the run to box-agent (`POST /runs`, idempotent on the run id), records when it took it,
   * and answers the events its answer carried. A box that cannot be reached is asked again with
   * backoff until the dispatch deadline, then the run fails saying so; a refusal or a bad answer
   * fails it at once.
   */
  async dispatch(
    run: RunRow,
    dispatch: RunCreate,
  ): Promise<{ target: BoxRow; events: RunEvent[] } | FollowOutcome> {
    const deadline = run.createdAt.getTime() + this.deps.config.runs.dispatchDeadlineMs;
    let problem = "no answer yet";
    for (let failures = 0; ; failures++) {
      this.signal.throwIfAborted();
      try {
        // Read again each time: the run may have been cancelled, the box deployed meanwhile.
        const current = await this.current();
        if (typeof current === "string") {
          return current;
        }
        const target = await this.loadBox(run.boxId);
        if (!target) {
          return "gone";
        }
        const who = describeBox(target);
        const answer = await this.deps.boxAgent.call(target, "runs.create", dispatch, {
          idempotencyKey: run.id,
          // A box that hangs must not hold the run past its dispatch deadline by much.
          timeoutMs: Math.min(
            DISPATCH_CALL_TIMEOUT_MS,
            Math.max(deadline - Date.now(), DISPATCH_CALL_MIN_TIMEOUT_MS),
          ),
        });
        if (answer.ok) {
          await this.deps.db
            .update(boxRun)
            .set({ dispatchedAt: new Date() })
            .where(and(eq(boxRun.id, run.id), isNull(boxRun.dispatchedAt)));
          this.logger.info({ duplicate: answer.body.duplicate }, "run handed to box-agent");
          return { target, events: answer.body.events };
        }
        if (isFinalRefusal(answer.status)) {
          return this.end({
            status: "failed",
            error: `${who} refused the run (HTTP ${answer.status}): ${answer.message}`,
          });
        }
        problem = `${who} answered HTTP ${answer.status}: ${answer.message}`;
      } catch (err) {
        if (this.signal.aborted) {
          throw this.signal.reason;
        }
        if (err instanceof BoxBadAnswerError) {
          return this.end({ status: "failed", error: err.message });
        }
        // The box unreachable, or Postgres away for a moment: both are worth another try.
        problem = messageOf(err);
      }
      if (Date.now() >= deadline) {
        return this.end({
          status: "failed",
          error: `box unreachable: the run could not be handed to it within ${minutes(this.deps.config.runs.dispatchDeadlineMs)} of being queued (${problem})`,
        });
      }
      this.logger.warn({ problem, failures }, "dispatching the run failed; trying again");
      await pause(Math.min(backoffMs(failures), Math.max(deadline - Date.now(), 0)), this.signal);
    }
  }

  /**
   * Holds the run's event stream until its `done`: stores each event, publishes it, and on `done`
   * completes the run. A dropped stream is opened again after the last stored event; box-agent not
   * knowing the run (its data lost) interrupts it; no `done` by the run's deadline interrupts it too.
   */
  async followEvents(justDispatched?: { run: RunRow; target: BoxRow }): Promise<FollowOutcome> {
    const graceMs = this.deps.config.reconcile.runGraceMs;
    let problem = "";
    let failures = 0;
    let fresh = justDispatched;
    for (;;) {
      this.signal.throwIfAborted();
      const first = fresh;
      fresh = undefined;
      try {
        const run = first?.run ?? (await this.current());
        if (typeof run === "string") {
          return run;
        }
        // The box's `done` stored while its completion was not (Postgres failed, the worker died):
        // the box has nothing more to send, so complete from what is stored.
        const storedDone = await this.storedDone(run);
        if (storedDone) {
          return this.completeFromDone(storedDone);
        }
        const deadline = runDeadline(run, graceMs).getTime();
        if (Date.now() >= deadline) {
          return this.end({
            status: "interrupted",
            error: `no final event came from the box by the run's deadline (its ${minutes(run.maxDurationMs)} limit and ${minutes(graceMs)} of grace)${problem ? `; last: ${problem}` : ""}`,
          });
        }
        const target = first?.target ?? (await this.loadBox(run.boxId));
        if (!target) {
          return "gone";
        }
        const outcome = await this.readStream(run, target, deadline);
        if (typeof outcome === "string") {
          return outcome;
        }
        problem = "the event stream ended before the run's final event";
        // A stream that moved the run on was healthy: the next drop starts the backoff again.
        failures = outcome.stored > 0 ? 0 : failures + 1;
      } catch (err) {
        if (this.signal.aborted) {
          throw this.signal.reason;
        }
        if (err instanceof BoxBadAnswerError) {
          return this.end({ status: "failed", error: err.message });
        }
        problem = messageOf(err);
        failures++;
      }
      this.logger.warn({ problem, failures }, "the run's event stream dropped; reconnecting");
      await pause(backoffMs(failures - 1), this.signal);
    }
  }

  /** One connection to the run's event stream, read until it ends or ends the run. */
  async readStream(
    run: RunRow,
    target: BoxRow,
    deadline: number,
  ): Promise<FollowOutcome | { stored: number }> {
    let lastSeq = run.lastEventSeq;
    let stored = 0;
    const opened = await this.deps.boxAgent.stream(
      target,
      "runs.events",
      { id: run.id },
      {
        lastEventId: lastSeq,
        signal: AbortSignal.any([this.signal, AbortSignal.timeout(Math.max(deadline - Date.now(), 1))]),
      },
    );
    if (!opened.ok) {
      if (opened.status === 404) {
        return this.end({
          status: "interrupted",
          error: `${describeBox(target)} has no record of the run (its box-agent lost its data): ${opened.message}`,
        });
      }
      throw new Error(
        `${describeBox(target)} refused the run's event stream (HTTP ${opened.status}): ${opened.message}`,
      );
    }
    for await (const event of opened.body) {
      if (event.seq <= lastSeq) {
        continue;
      }
      const ended = await this.take(run, event);
      lastSeq = event.seq;
      stored++;
      if (ended) {
        return ended;
      }
    }
    return { stored };
  }

  /**
   * Stores one event of the box and publishes it; on `done` completes the run. Answers how the
   * follow ended when this event ended it (or showed it ended elsewhere), else nothing.
   */
  async take(run: RunRow, event: RunEvent): Promise<FollowOutcome | undefined> {
    const { status } = await recordRunEvent({ deps: this.deps, run, event });
    if (event.type === "done") {
      return this.completeFromDone(event);
    }
    await this.publish(event);
    return isTerminalRunStatus(status) ? "ended-elsewhere" : undefined;
  }

  async storedDone(run: RunRow): Promise<RunDoneEvent | undefined> {
    if (run.lastEventSeq === 0) {
      return undefined;
    }
    const [row] = await this.deps.db
      .select({ data: boxRunEvent.data })
      .from(boxRunEvent)
      .where(
        and(
          eq(boxRunEvent.runId, run.id),
          eq(boxRunEvent.seq, run.lastEventSeq),
          eq(boxRunEvent.type, "done"),
        ),
      )
      .limit(1);
    const parsed = runEventSchema.safeParse(row?.data);
    return parsed.success && parsed.data.type === "done" ? parsed.data : undefined;
  }

  async completeFromDone(event: RunDoneEvent): Promise<FollowOutcome> {
    const { ended } = await completeRun({
      deps: this.deps,
      runId: this.runId,
      end: event.run,
      doneEvent: event,
    });
    this.logger.info({ status: event.run.status, ended }, "run ended");
    return ended ? "ended" : "ended-elsewhere";
  }

  async publish(event: RunEvent): Promise<void> {
    try {
      await this.deps.runEvents.publish(this.runId, event);
    } catch (err) {
      // Postgres has the event; a live subscriber finds it there.
      this.logger.warn({ err, seq: event.seq }, "publishing a run event failed");
    }
  }
}

/**
 * Follows one run from its dispatch to its end (the `run.follow` job): hands it to box-agent if that
 * was not done yet, then holds its event stream for the run's whole life, storing each event in
 * order, fanning it out on `deps.runEvents`, and completing the run (and what started it) on its
 * `done`. Safe to run again after a crash: it resumes after the last stored event, and ends the run
 * only through completeRun, which ends it once.
 */
export function followRun({ deps, runId, signal, logger }: FollowRunInput): Promise<FollowOutcome> {
  return new RunFollower(deps, runId, signal, logger).follow();
}
