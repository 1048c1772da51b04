import { z } from "zod";
import { boxAgentRoute, boxText } from "./base";
import { contextTypeSchema, runStatusSchema, runTriggerSchema } from "./runs";

/** The platform asks for 100 contexts × 10 runs of excerpts (≤ 5000 characters each, up to 3 bytes per character). */
export const SESSION_LIST_MAX_BYTES = 16 * 1024 * 1024;

/** A run in a context's history (`/sessions/list`); prompt and result are excerpts. */
export const recordedRunSchema = z.object({
  id: boxText(256),
  trigger: runTriggerSchema,
  contextType: contextTypeSchema,
  contextId: boxText(256),
  sessionId: boxText(256).nullable(),
  status: runStatusSchema,
  prompt: boxText(20_000),
  result: boxText(50_000).nullable(),
  queuedAt: boxText(64),
  /** When the run started, or was queued while it has not started yet. */
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

export const sessions = {
  /** The box's Claude contexts with their latest runs. */
  list: boxAgentRoute
    .route({ method: "GET", path: "/sessions/list" })
    .meta({ maxAnswerBytes: SESSION_LIST_MAX_BYTES })
    .input(sessionListInput)
    .output(sessionListSchema),
};
