import {
  type ContextType,
  DEFAULT_RUN_DURATION_MS,
  isTerminalRunStatus,
  MAX_RUN_DURATION_MS,
  type RunCreate,
  type RunTask,
  type RunTrigger,
  runCreateInput,
} from "@vps-claude/contract/box-agent";
import { type box, boxAgentConfig, boxRun } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { and, eq, isNull } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { getAgentConfig, type TriggerType } from "../agent-config/manage-agent-config";
import type { RunRow } from "./run-origin";
import { toStorableText } from "./storable";

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

/** The run record keeps this much of what it was asked; the whole task is in its dispatch. */
export const RUN_PROMPT_EXCERPT_MAX_CHARS = 4_000;

/** Which agent config a trigger runs with: the owner's chat and API callers share the `session` one. */
const AGENT_CONFIG_OF: Record<RunTrigger, TriggerType> = {
  chat: "session",
  api: "session",
  email: "email",
  cron: "cron",
};

function excerpt(text: string): string {
  const clean = toStorableText(text);
  return clean.length <= RUN_PROMPT_EXCERPT_MAX_CHARS
    ? clean
    : `${clean.slice(0, RUN_PROMPT_EXCERPT_MAX_CHARS - 1)}…`;
}

/** The run's own limit: the caller's (a cronjob's), else the agent config's, else 30 minutes; never over 4 hours. */
function runLimitMs(override: number | undefined, configMinutes: number | null | undefined): number {
  const wanted = override ?? (configMinutes ? configMinutes * 60_000 : DEFAULT_RUN_DURATION_MS);
  return Math.min(Math.max(Math.round(wanted), 1_000), MAX_RUN_DURATION_MS);
}

/**
 * What box-agent is handed (`POST /runs`): the trigger's agent config as it is now, resolved here so
 * the run starts without calling back, and so a re-dispatch after a crash sends the same.
 */
async function resolveDispatch(runId: string, input: StartRunInput): Promise<RunCreate> {
  const { deps, target } = input;
  const triggerType = AGENT_CONFIG_OF[input.trigger];
  const [config, [limits]] = await Promise.all([
    getAgentConfig({ deps, boxId: target.id, triggerType }),
    deps.db
      .select({ maxDurationMinutes: boxAgentConfig.maxDurationMinutes })
      .from(boxAgentConfig)
      .where(and(eq(boxAgentConfig.boxId, target.id), eq(boxAgentConfig.triggerType, triggerType)))
      .limit(1),
  ]);
  const dispatch = runCreateInput.safeParse({
    runId,
    trigger: input.trigger,
    contextType: input.contextType,
    contextId: input.contextId,
    session: input.session ?? "continue",
    task: input.task,
    agent: {
      model: input.model ?? config.model,
      systemPrompt: config.systemPrompt,
      mcpServers: config.mcpServers,
      ...(config.maxBudgetUsd === null ? {} : { maxBudgetUsd: config.maxBudgetUsd }),
      ...(config.maxTurns === null ? {} : { maxTurns: config.maxTurns }),
    },
    limits: { maxDurationMs: runLimitMs(input.maxDurationMs, limits?.maxDurationMinutes) },
  });
  if (!dispatch.success) {
    const issue = dispatch.error.issues[0];
    throw new Error(
      `startRun: the ${input.trigger} run for ${target.id} cannot be dispatched: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    );
  }
  return dispatch.data;
}

/**
 * Queues the job that dispatches and follows the run. Its id is the run's, so BullMQ keeps one job
 * per run however often this is called (a retried delivery or tick calls it again, harmlessly).
 */
async function queueRunFollow(deps: ApiDeps, runId: string): Promise<void> {
  await deps.queues.enqueue("followRun", { runId }, { jobId: runId });
}

/** The first run of the email or tick that `links` names (the one a repeated start must return). */
async function findLinkedRun(deps: ApiDeps, links: StartRunInput["links"]): Promise<RunRow | undefined> {
  const link = links?.cronjobExecutionId
    ? eq(boxRun.cronjobExecutionId, links.cronjobExecutionId)
    : links?.emailId
      ? eq(boxRun.emailId, links.emailId)
      : undefined;
  if (!link) {
    return undefined;
  }
  const [row] = await deps.db
    .select()
    .from(boxRun)
    .where(and(link, isNull(boxRun.retryOf)))
    .limit(1);
  return row;
}

/**
 * Records a run `queued` in Postgres and queues the job that dispatches it to box-agent and follows
 * it to its end. Never waits for the run. Returns the existing run for an email or tick that already
 * has one (`created: false`).
 *
 * The row is committed before the job is added, so a follower always finds its run; a crash between
 * the two leaves a queued run without a job, which the caller's retry (startRun again: the job is
 * added for the existing run) or the reconciler repairs.
 */
export async function startRun(input: StartRunInput): Promise<{ runId: string; created: boolean }> {
  const { deps, target, links = {} } = input;
  const existing = links.retryOf ? undefined : await findLinkedRun(deps, links);
  if (existing) {
    if (!isTerminalRunStatus(existing.status)) {
      await queueRunFollow(deps, existing.id);
    }
    return { runId: existing.id, created: false };
  }
  const runId = newId("run");
  const dispatch = await resolveDispatch(runId, input);
  // A start racing this one for the same email or tick loses on the partial unique indexes.
  const [row] = await deps.db
    .insert(boxRun)
    .values({
      id: runId,
      boxId: target.id,
      userId: target.userId,
      trigger: input.trigger,
      contextType: input.contextType,
      contextId: input.contextId,
      status: "queued",
      prompt: excerpt(input.prompt),
      model: dispatch.agent.model,
      dispatch,
      maxDurationMs: dispatch.limits.maxDurationMs,
      emailId: links.emailId ?? null,
      cronjobId: links.cronjobId ?? null,
      cronjobExecutionId: links.cronjobExecutionId ?? null,
      retryOf: links.retryOf ?? null,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) {
    const winner = await findLinkedRun(deps, links);
    if (!winner) {
      throw new Error(
        `startRun: run ${runId} conflicted with a run that cannot be found (links ${JSON.stringify(links)})`,
      );
    }
    if (!isTerminalRunStatus(winner.status)) {
      await queueRunFollow(deps, winner.id);
    }
    return { runId: winner.id, created: false };
  }
  await queueRunFollow(deps, row.id);
  return { runId, created: true };
}
