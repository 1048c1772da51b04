import { z } from "zod";
import { sessionListSchema, sessionRunSchema } from "../../schemas";

/** The shapes box-agent answers with, as the platform accepts them; everything else from a box is refused. */
export const boxAgentAnswers = {
  health: z.object({
    ok: z.boolean(),
    boxId: z.string().max(100),
    version: z.string().max(100).optional(),
    uptime: z.number().optional(),
  }),
  sessionList: sessionListSchema,
  /** A finished run (chat, cron): the same outcome box-agent records. */
  runOutcome: sessionRunSchema.extend({
    runId: z.string().max(256),
    sessionId: z.string().max(256).nullable(),
    status: z.enum(["completed", "failed"]),
    result: z.string().max(2_000_000).nullable(),
    error: z.string().max(20_000).nullish(),
    note: z.string().max(20_000).nullish(),
  }),
  emailReceived: z.object({
    id: z.string().max(100),
    accepted: z.literal(true).optional(),
    duplicate: z.literal(true).optional(),
  }),
};

/** A run's answer may carry Claude's whole final message. */
export const RUN_ANSWER_MAX_BYTES = 4 * 1024 * 1024;
/** The list asks for 100 contexts × 10 runs of excerpts (≤ 5000 characters each, up to 3 bytes per character). */
export const SESSION_LIST_MAX_BYTES = 16 * 1024 * 1024;
