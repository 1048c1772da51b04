import { boxCronjob, boxCronjobExecution } from "@vps-claude/db";
import { and, eq, notInArray } from "drizzle-orm";
import type { RunRow, Tx } from "../run/run-origin";
import { TERMINAL_EXECUTION_STATUSES } from "./execution-status";

/** How much of a run's result an execution keeps (the run record has all of it). */
const RESULT_EXCERPT_CHARS = 4_000;
const ERROR_MESSAGE_CHARS = 4_000;

/** What the execution says went wrong, for a run that did not complete. */
function failureReason(run: RunRow): string {
  switch (run.status) {
    case "cancelled":
      return run.error ? `run cancelled: ${run.error}` : "run cancelled";
    case "interrupted":
      return `run interrupted: ${run.error ?? "no reason recorded"}`;
    default:
      return run.error ?? "the run failed without saying why";
  }
}

/**
 * Ends the cron execution a run belongs to, in the transaction that ended the run: `completed` or
 * `failed` (cancelled and interrupted runs too, with the reason), with duration, cost and session.
 * The cost kept is the run's own report; the execution's DTO shows the ledger's sum for the run
 * instead once it has entries (see `ledgerCostOfRuns`).
 * An execution that has already ended (the reconciler, a tick that failed after starting its run)
 * keeps its outcome, so calling this twice changes nothing.
 */
export async function finishCronExecution({ db, run }: { db: Tx; run: RunRow }): Promise<void> {
  if (!run.cronjobExecutionId || run.status === "queued" || run.status === "running") {
    return;
  }
  const [execution] = await db
    .select({ startedAt: boxCronjobExecution.startedAt, createdAt: boxCronjobExecution.createdAt })
    .from(boxCronjobExecution)
    .where(eq(boxCronjobExecution.id, run.cronjobExecutionId))
    .limit(1);
  if (!execution) {
    return;
  }
  const completedAt = run.completedAt ?? new Date();
  const startedAt = execution.startedAt ?? execution.createdAt;
  const completed = run.status === "completed";
  const [ended] = await db
    .update(boxCronjobExecution)
    .set({
      status: completed ? "completed" : "failed",
      completedAt,
      durationMs: Math.max(0, completedAt.getTime() - startedAt.getTime()),
      errorMessage: completed ? null : failureReason(run).slice(0, ERROR_MESSAGE_CHARS),
      runId: run.id,
      sessionId: run.sessionId,
      costUsd: run.costUsd,
      resultExcerpt: run.result?.slice(0, RESULT_EXCERPT_CHARS) ?? null,
    })
    .where(
      and(
        eq(boxCronjobExecution.id, run.cronjobExecutionId),
        notInArray(boxCronjobExecution.status, TERMINAL_EXECUTION_STATUSES),
      ),
    )
    .returning({ cronjobId: boxCronjobExecution.cronjobId });
  if (ended) {
    await db.update(boxCronjob).set({ lastRunAt: completedAt }).where(eq(boxCronjob.id, ended.cronjobId));
  }
}
