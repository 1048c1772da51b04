import { z } from "zod";
import { boxAgentRoute, boxText } from "./base";

export const CONTEXT_TYPES = ["session", "cron", "email"] as const;
export const contextTypeSchema = z.enum(CONTEXT_TYPES);
export type ContextType = z.output<typeof contextTypeSchema>;

/** A run's answer may carry Claude's whole final message. */
export const RUN_ANSWER_MAX_BYTES = 4 * 1024 * 1024;
/** The platform asks for 100 contexts × 10 runs of excerpts (≤ 5000 characters each, up to 3 bytes per character). */
export const SESSION_LIST_MAX_BYTES = 16 * 1024 * 1024;

/** A finished run (chat, cron): the outcome box-agent records and answers with. */
export const runOutcomeSchema = z.object({
  runId: boxText(256),
  /** Null when the run failed before Claude confirmed a session. */
  sessionId: boxText(256).nullable(),
  status: z.enum(["completed", "failed"]),
  result: boxText(2_000_000).nullable(),
  costUsd: z.number().nullable(),
  durationMs: z.number(),
  error: boxText(20_000).nullish(),
  note: boxText(20_000).nullish(),
});

export type RunOutcome = z.output<typeof runOutcomeSchema>;

export const recordedRunSchema = z.object({
  id: boxText(256),
  contextType: contextTypeSchema,
  contextId: boxText(256),
  sessionId: boxText(256).nullable(),
  status: z.enum(["running", "completed", "failed"]),
  prompt: boxText(20_000),
  result: boxText(50_000).nullable(),
  startedAt: boxText(64),
  completedAt: boxText(64).nullable(),
  durationMs: z.number().nullable(),
  costUsd: z.number().nullable(),
  inputTokens: z.number().nullable(),
  outputTokens: z.number().nullable(),
  error: boxText(20_000).nullable(),
  note: boxText(20_000).nullable(),
});

export const sessionContextSchema = z.object({
  contextType: contextTypeSchema,
  contextId: boxText(256),
  sessionId: boxText(256).nullable(),
  createdAt: boxText(64).nullable(),
  updatedAt: boxText(64).nullable(),
  runs: z.array(recordedRunSchema).max(100),
});

export const sessionListSchema = z.object({ sessions: z.array(sessionContextSchema).max(500) });

export const sessionListInput = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  runs: z.coerce.number().int().min(1).max(100).default(5),
});

export const sessionSendInput = z.object({
  contextType: contextTypeSchema.default("session"),
  contextId: z.string().trim().min(1).max(256),
  message: z.string().min(1, "message must not be empty").max(200_000),
});

export const sessions = {
  /** The box's Claude contexts with their latest runs. */
  list: boxAgentRoute
    .route({ method: "GET", path: "/sessions/list" })
    .meta({ maxAnswerBytes: SESSION_LIST_MAX_BYTES })
    .input(sessionListInput)
    .output(sessionListSchema),
  /** Runs one message in its context's session and answers when Claude's run ends. */
  send: boxAgentRoute
    .route({ method: "POST", path: "/sessions/send" })
    .meta({ maxAnswerBytes: RUN_ANSWER_MAX_BYTES })
    .input(sessionSendInput)
    .output(runOutcomeSchema),
};
