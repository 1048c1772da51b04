import type { ContextType, RunTask, RunTrigger } from "@vps-claude/contract/box-agent";
import type { box } from "@vps-claude/db";
import type { ApiDeps } from "../../deps";

type BoxRow = typeof box.$inferSelect;

export interface StartRunInput {
  deps: ApiDeps;
  target: BoxRow;
  trigger: RunTrigger;
  contextType: ContextType;
  contextId: string;
  /** `continue` (default) resumes the context's Claude session; `fresh` starts a new one. */
  session?: "continue" | "fresh";
  task: RunTask;
  /** What the run record shows as its prompt (stored as an excerpt). */
  prompt: string;
  /** Overrides of the trigger's agent config (a cronjob's own model and limit). */
  model?: string;
  maxDurationMs?: number;
  /** What started it; a second start for the same email or tick returns the first run. */
  links?: { emailId?: string; cronjobId?: string; cronjobExecutionId?: string; retryOf?: string };
}

/**
 * Records a run `queued` in Postgres and queues the job that dispatches it to box-agent and follows
 * it to its end. Never waits for the run. Returns the existing run for an email or tick that already
 * has one (`created: false`).
 */
export async function startRun(_input: StartRunInput): Promise<{ runId: string; created: boolean }> {
  throw new Error("startRun: not built yet (issue 9, platform runs)");
}
