import type { boxCronjob, boxCronjobExecution } from "@vps-claude/db";

export type CronjobDto = typeof boxCronjob.$inferSelect;
export type CronjobExecutionDto = typeof boxCronjobExecution.$inferSelect;
