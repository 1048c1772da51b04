import { CRONJOB_NEXT_RUNS } from "@vps-claude/contract";
import type { boxCronjob, boxCronjobExecution } from "@vps-claude/db";
import { nextCronFireTimes } from "@vps-claude/shared";
import type { RunCost } from "../run/run-cost";

export type CronjobRow = typeof boxCronjob.$inferSelect;

/** A cronjob as the API shows it: `session` (the `session_mode` column) and its next fire times. */
export type CronjobDto = Omit<CronjobRow, "sessionMode"> & {
  session: CronjobRow["sessionMode"];
  nextRuns: Date[];
};
export type CronjobExecutionDto = typeof boxCronjobExecution.$inferSelect;

/**
 * The next fire times of an enabled job, as its BullMQ scheduler computes them; none while disabled.
 * A stored expression the parser now refuses (a library upgrade) lists nothing rather than failing the read.
 */
export function nextRunsOf(cronjob: CronjobRow, from = new Date()): Date[] {
  if (!cronjob.enabled) {
    return [];
  }
  try {
    return nextCronFireTimes(cronjob.schedule, {
      count: CRONJOB_NEXT_RUNS,
      timezone: cronjob.timezone,
      from,
    });
  } catch {
    return [];
  }
}

export function toCronjobDto(cronjob: CronjobRow, now = new Date()): CronjobDto {
  const { sessionMode, ...rest } = cronjob;
  return { ...rest, session: sessionMode, nextRuns: nextRunsOf(cronjob, now) };
}

/** An execution as the API shows it: its cost is its run's by the ledger when the ledger has entries of the run. */
export function toCronjobExecutionDto(
  execution: CronjobExecutionDto,
  runCost: RunCost | undefined,
): CronjobExecutionDto {
  return runCost ? { ...execution, costUsd: runCost.costUsd } : execution;
}
