import type { boxCronjobExecution } from "@vps-claude/db";

type ExecutionStatus = (typeof boxCronjobExecution.$inferSelect)["status"];

/** Statuses of an execution whose tick has not yet handed its run over (or decided not to). */
export const STARTING_EXECUTION_STATUSES = ["pending", "waking_box"] as const satisfies ExecutionStatus[];
export const TERMINAL_EXECUTION_STATUSES = [
  "completed",
  "failed",
  "skipped",
] as const satisfies ExecutionStatus[];
