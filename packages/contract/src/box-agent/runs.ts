import { z } from "zod";
import { mcpServerSchema, runMaxBudgetUsdSchema, runMaxTurnsSchema } from "../schemas/agent-config";
import { boxAgentRoute, boxText } from "./base";
import { emailIdSchema } from "./email";

/** box-agent's threads: one Claude session per (contextType, contextId). */
export const CONTEXT_TYPES = ["session", "cron", "email"] as const;
export const contextTypeSchema = z.enum(CONTEXT_TYPES);
export type ContextType = z.output<typeof contextTypeSchema>;

/** What started a run. `chat` and `api` run in `session` contexts; `email` in the thread's; `cron` in the job's. */
export const RUN_TRIGGERS = ["chat", "email", "cron", "api"] as const;
export const runTriggerSchema = z.enum(RUN_TRIGGERS);
export type RunTrigger = z.output<typeof runTriggerSchema>;

export const RUN_STATUSES = ["queued", "running", "completed", "failed", "cancelled", "interrupted"] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.output<typeof runStatusSchema>;
export const TERMINAL_RUN_STATUSES = ["completed", "failed", "cancelled", "interrupted"] as const;
export const terminalRunStatusSchema = z.enum(TERMINAL_RUN_STATUSES);
export type TerminalRunStatus = z.output<typeof terminalRunStatusSchema>;
export const isTerminalRunStatus = (status: string): status is TerminalRunStatus =>
  (TERMINAL_RUN_STATUSES as readonly string[]).includes(status);

/** The longest any run may take (a cronjob's own limit may reach it); the default is 30 minutes. */
export const MAX_RUN_DURATION_MS = 4 * 60 * 60_000;
export const DEFAULT_RUN_DURATION_MS = 30 * 60_000;

/** A tool result is stored and streamed up to this many characters; the rest is cut (`truncated`). */
export const TOOL_RESULT_MAX_CHARS = 8_000;
/** The largest single SSE event the platform reads from a box; bigger ones end the stream as a bad answer. */
export const RUN_EVENT_MAX_BYTES = 1024 * 1024;

/** What Claude is asked to do. box-agent renders email and cron tasks into prompts itself. */
export const runTaskSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("message"),
    message: z.string().min(1, "message must not be empty").max(200_000),
  }),
  /** An email already delivered to the box's inbox (`POST /email/receive`). */
  z.object({ kind: z.literal("email"), emailId: emailIdSchema }),
  z.object({
    kind: z.literal("cron"),
    cronjobId: z.string().trim().min(1).max(256),
    name: z.string().max(200).default(""),
    prompt: z.string().min(1, "prompt must not be empty").max(100_000),
    /** The tick's time, for the prompt (ISO 8601). */
    scheduledFor: z.string().max(64),
  }),
]);
export type RunTask = z.output<typeof runTaskSchema>;

/**
 * Everything a run needs, resolved by the platform at dispatch, so the run starts without calling
 * back: the trigger's agent config and the run's limits.
 */
export const runAgentSchema = z.object({
  model: z.string().min(1).max(100),
  systemPrompt: z.string().max(50_000),
  mcpServers: z.record(z.string(), mcpServerSchema).default({}),
  /** The SDK's `maxBudgetUsd`: Claude stops once the run has cost this much; absent: no limit. */
  maxBudgetUsd: runMaxBudgetUsdSchema.optional(),
  /** The SDK's `maxTurns`; absent: no limit. */
  maxTurns: runMaxTurnsSchema.optional(),
});
export type RunAgent = z.output<typeof runAgentSchema>;

export const runCreateInput = z.object({
  /** Chosen by the platform (`run_…`); a repeated dispatch of the same id is the same run. */
  runId: z.string().regex(/^[a-z0-9_]{1,80}$/, "a run id is 1–80 characters of a-z, 0-9 and '_'"),
  trigger: runTriggerSchema,
  contextType: contextTypeSchema,
  contextId: z.string().trim().min(1).max(256),
  /** `continue` resumes the context's Claude session; `fresh` starts a new one (and makes it the context's). */
  session: z.enum(["continue", "fresh"]).default("continue"),
  task: runTaskSchema,
  agent: runAgentSchema,
  limits: z.object({
    maxDurationMs: z.number().int().min(1_000).max(MAX_RUN_DURATION_MS).default(DEFAULT_RUN_DURATION_MS),
  }),
});
export type RunCreateInput = z.input<typeof runCreateInput>;
export type RunCreate = z.output<typeof runCreateInput>;

/** Token counts and cost as Claude Code's result message reports them for this run. */
export const runUsageSchema = z.object({
  costUsd: z.number().nullable(),
  inputTokens: z.number().int().nullable(),
  outputTokens: z.number().int().nullable(),
  cacheReadTokens: z.number().int().nullable(),
  cacheWriteTokens: z.number().int().nullable(),
});

/** A run as box-agent records it (`GET /runs/{id}`). */
export const agentRunSchema = runUsageSchema.extend({
  id: boxText(80),
  trigger: runTriggerSchema,
  contextType: contextTypeSchema,
  contextId: boxText(256),
  sessionId: boxText(256).nullable(),
  status: runStatusSchema,
  result: boxText(2_000_000).nullable(),
  error: boxText(20_000).nullable(),
  queuedAt: boxText(64),
  startedAt: boxText(64).nullable(),
  completedAt: boxText(64).nullable(),
  durationMs: z.number().nullable(),
  /** The sequence number of the run's last event so far. */
  lastSeq: z.number().int().min(0),
});
export type AgentRun = z.output<typeof agentRunSchema>;

const eventBase = {
  /** 1, 2, 3, … per run; the SSE `id`, so `Last-Event-ID` resumes after it. */
  seq: z.number().int().min(1),
  /** When box-agent emitted it (ISO 8601). */
  at: boxText(64),
};

/** How a run ended, in its `done` event. */
export const runEndSchema = runUsageSchema.extend({
  status: terminalRunStatusSchema,
  sessionId: boxText(256).nullable(),
  result: boxText(2_000_000).nullable(),
  error: boxText(20_000).nullable(),
  durationMs: z.number().int().min(0),
});
export type RunEnd = z.output<typeof runEndSchema>;

/**
 * One transcript event. The SSE stream sends each as `id: <seq>`, `event: <type>`, `data: <this JSON>`;
 * the platform stores them per run and passes them on to the owner's stream as they are.
 */
export const runEventSchema = z.discriminatedUnion("type", [
  z.object({
    ...eventBase,
    type: z.literal("status"),
    status: z.enum(["queued", "running"]),
    sessionId: boxText(256).nullable().default(null),
  }),
  z.object({ ...eventBase, type: z.literal("text"), text: boxText(200_000) }),
  z.object({
    ...eventBase,
    type: z.literal("tool_use"),
    toolUseId: boxText(256),
    name: boxText(256),
    input: z.json(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("tool_result"),
    toolUseId: boxText(256),
    content: boxText(TOOL_RESULT_MAX_CHARS + 100),
    isError: z.boolean(),
    truncated: z.boolean(),
  }),
  z.object({ ...eventBase, type: z.literal("error"), message: boxText(20_000) }),
  z.object({ ...eventBase, type: z.literal("done"), run: runEndSchema }),
]);
export type RunEvent = z.output<typeof runEventSchema>;
export type RunEventType = RunEvent["type"];

/** At most this many events ride on a `create` answer: the few a run has when it is accepted. */
export const ACCEPTED_EVENTS_MAX = 8;

export const runIdParams = z.object({ id: z.string().regex(/^[a-z0-9_]{1,80}$/, "not a run id") });

export const runs = {
  /**
   * Accepts a run into box-agent's durable queue and answers at once (`202`; `200` with
   * `duplicate: true` when the id was accepted before). A new run's answer carries the events it
   * stored on accepting it (its `queued`), so the platform can show them without first opening the
   * stream; the rest follow on `events`, after the last one carried (`Last-Event-ID`). A duplicate
   * carries none: the stream has them all. A box-agent from before this field sends none either.
   */
  create: boxAgentRoute
    .route({ method: "POST", path: "/runs", successStatus: 202 })
    .input(runCreateInput)
    .output(
      z.object({
        runId: boxText(80),
        status: runStatusSchema,
        duplicate: z.boolean().default(false),
        events: z.array(runEventSchema).max(ACCEPTED_EVENTS_MAX).default([]),
      }),
    ),
  get: boxAgentRoute
    .route({ method: "GET", path: "/runs/{id}" })
    .meta({ maxAnswerBytes: 4 * 1024 * 1024 })
    .input(runIdParams)
    .output(agentRunSchema),
  /** Aborts a running run or drops a queued one; either ends `cancelled` (a finished run stays as it is). */
  cancel: boxAgentRoute
    .route({ method: "POST", path: "/runs/{id}/cancel" })
    .input(runIdParams)
    .output(z.object({ id: boxText(80), status: runStatusSchema })),
  /**
   * `text/event-stream` of {@link runEventSchema} events: those after `Last-Event-ID` (all without
   * it), then live ones, ending after `done`. Comments (`: keep-alive`) come every 15 s.
   * Its output schema is one event's `data`; each event is at most {@link RUN_EVENT_MAX_BYTES}.
   */
  events: boxAgentRoute
    .route({ method: "GET", path: "/runs/{id}/events" })
    .meta({ maxAnswerBytes: RUN_EVENT_MAX_BYTES })
    .input(runIdParams)
    .output(runEventSchema),
};
