import type { RunRow, Tx } from "../run/run-origin";

/**
 * Ends the cron execution a run belongs to, in the transaction that ended the run: `completed` or
 * `failed` (cancelled and interrupted runs too, with the reason), with duration, cost and session.
 */
export async function finishCronExecution(_input: { db: Tx; run: RunRow }): Promise<void> {
  // Filled in by the cron work (issue 9); called by completeRun for runs with a cronjobExecutionId.
}
