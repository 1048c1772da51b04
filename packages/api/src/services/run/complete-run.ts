import {
  type RunEnd,
  type RunEvent,
  TERMINAL_RUN_STATUSES,
  type TerminalRunStatus,
} from "@vps-claude/contract/box-agent";
import { boxRun } from "@vps-claude/db";
import { and, eq, notInArray, sql } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { finishCronExecution } from "../cronjob/finish-cron-execution";
import { finishEmailRun } from "../email/finish-email-run";
import type { RunRow } from "./run-origin";
import { toStorableText } from "./storable";

/** How a run ended: the box's `done` as it is, or a status and a reason from whoever ends it here. */
export type RunEnding = { status: TerminalRunStatus } & Partial<Omit<RunEnd, "status">>;

export type RunDoneEvent = Extract<RunEvent, { type: "done" }>;

export interface CompleteRunInput {
  deps: ApiDeps;
  runId: string;
  end: RunEnding;
  /**
   * The box's own `done` event (already stored in the transcript), published once the end is
   * committed. Without it a `done` is made up from the record and published (not stored: it has no
   * place in the box's sequence).
   */
  doneEvent?: RunDoneEvent;
}

const INT4_MAX = 2_147_483_647;

/** A count from the box: a whole number the column holds, or nothing (a box's numbers are untrusted). */
function count(value: number | null | undefined): number | null {
  return value == null || !Number.isFinite(value) ? null : Math.min(Math.max(Math.round(value), 0), INT4_MAX);
}

function cost(value: number | null | undefined): number | null {
  return value == null || !Number.isFinite(value) || value < 0 ? null : value;
}

const text = (value: string | null | undefined) => (value == null ? null : toStorableText(value));

/** What the record says of how the run ended, as the `done` event's `run`. */
function endOf(run: RunRow): RunEnd {
  return {
    status: run.status as TerminalRunStatus,
    sessionId: run.sessionId,
    result: run.result,
    error: run.error,
    durationMs: run.durationMs ?? 0,
    costUsd: run.costUsd,
    inputTokens: run.inputTokens,
    outputTokens: run.outputTokens,
    cacheReadTokens: run.cacheReadTokens,
    cacheWriteTokens: run.cacheWriteTokens,
  };
}

/**
 * THE way a run ends, whoever ends it (its follower on the box's `done`, cancel, the reconciler): one
 * transaction moves the run to its terminal status, only if it has none yet, and in the same
 * transaction ends what started it (the cron execution, the inbound email). A run therefore ends
 * exactly once; a second call changes nothing and answers `ended: false` with the run as it is.
 * After the commit the run's `done` is published to live subscribers.
 *
 * Tokens and cost stored here are what the box's `done` reported: the fallback. What the owner sees
 * is the ledger's sum for the run wherever it has entries (`ledgerCostOfRuns`, on read), because the
 * gateway's last entries of a run may be written a few milliseconds after the run ends.
 * Without a duration from the box, a started run's is measured from its start to now.
 */
export async function completeRun({
  deps,
  runId,
  end,
  doneEvent,
}: CompleteRunInput): Promise<{ ended: boolean; run: RunRow | undefined }> {
  const durationMs = count(end.durationMs);
  const ended = await deps.db.transaction(async (tx) => {
    const [run] = await tx
      .update(boxRun)
      .set({
        status: end.status,
        result: text(end.result),
        error: text(end.error),
        sessionId: end.sessionId ? text(end.sessionId) : sql`${boxRun.sessionId}`,
        completedAt: sql`now()`,
        durationMs:
          durationMs ??
          sql`case when ${boxRun.startedAt} is null then null else least(greatest(floor(extract(epoch from (now() - ${boxRun.startedAt})) * 1000), 0), ${INT4_MAX})::int end`,
        inputTokens: count(end.inputTokens),
        outputTokens: count(end.outputTokens),
        cacheReadTokens: count(end.cacheReadTokens),
        cacheWriteTokens: count(end.cacheWriteTokens),
        costUsd: cost(end.costUsd),
      })
      .where(and(eq(boxRun.id, runId), notInArray(boxRun.status, [...TERMINAL_RUN_STATUSES])))
      .returning();
    if (!run) {
      return undefined;
    }
    if (run.cronjobExecutionId) {
      await finishCronExecution({ db: tx, run });
    }
    if (run.emailId) {
      await finishEmailRun({ db: tx, run });
    }
    return run;
  });
  if (!ended) {
    const [run] = await deps.db.select().from(boxRun).where(eq(boxRun.id, runId)).limit(1);
    return { ended: false, run };
  }
  const done: RunDoneEvent = doneEvent ?? {
    type: "done",
    seq: ended.lastEventSeq + 1,
    at: (ended.completedAt ?? new Date()).toISOString(),
    run: endOf(ended),
  };
  try {
    await deps.runEvents.publish(runId, done);
  } catch (err) {
    // Subscribers also read the record, so a lost publish delays them; it loses nothing.
    deps.logger.warn({ err, runId }, "publishing a run's end failed; subscribers will read it from Postgres");
  }
  return { ended: true, run: ended };
}
