import { z } from "zod";
import { sessionListSchema } from "../box-agent/sessions";

export const sessionRunSchema = z.object({
  runId: z.string(),
  sessionId: z.string().nullable(),
  status: z.string(),
  result: z.string().nullable(),
  costUsd: z.number().nullable(),
  durationMs: z.number(),
  error: z.string().nullish(),
  note: z.string().nullish(),
});

/** The user route answers what box-agent's own `sessions.list` answered, parsed against its contract. */
export { sessionListSchema };

export const sendSessionMessageInput = z.object({
  contextId: z
    .string()
    .regex(/^[a-zA-Z0-9_.:-]{1,100}$/, "contextId is 1–100 letters, digits or . _ : -")
    .default("owner"),
  message: z
    .string()
    .trim()
    .min(1, "message must not be empty")
    .max(100_000, "message must be at most 100000 characters"),
});
