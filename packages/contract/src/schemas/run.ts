import { z } from "zod";
import {
  RUN_STATUSES,
  RUN_TRIGGERS,
  type RunEvent,
  runEventSchema,
  runStatusSchema,
  runTriggerSchema,
} from "../box-agent/runs";
import { idParam } from "./common";
import { sendSessionMessageInput } from "./session";

export { RUN_STATUSES, RUN_TRIGGERS, type RunEvent, runEventSchema, runStatusSchema, runTriggerSchema };

/** A run as the platform records it (`box_run`). */
export const runSchema = z.object({
  id: z.string(),
  boxId: z.string(),
  trigger: runTriggerSchema,
  contextType: z.string(),
  contextId: z.string(),
  sessionId: z.string().nullable(),
  status: runStatusSchema,
  prompt: z.string(),
  result: z.string().nullable(),
  error: z.string().nullable(),
  model: z.string().nullable(),
  maxDurationMs: z.number(),
  createdAt: z.date(),
  dispatchedAt: z.date().nullable(),
  startedAt: z.date().nullable(),
  completedAt: z.date().nullable(),
  durationMs: z.number().nullable(),
  inputTokens: z.number().nullable(),
  outputTokens: z.number().nullable(),
  cacheReadTokens: z.number().nullable(),
  cacheWriteTokens: z.number().nullable(),
  costUsd: z.number().nullable(),
  /** What started it: the inbound email, the cronjob and its execution, the run it retries. */
  emailId: z.string().nullable(),
  cronjobId: z.string().nullable(),
  cronjobExecutionId: z.string().nullable(),
  retryOf: z.string().nullable(),
});
export type Run = z.output<typeof runSchema>;

/** A run with its transcript so far. */
export const runDetailSchema = runSchema.extend({ events: z.array(runEventSchema) });

export const runParams = z.object({ boxId: idParam, runId: idParam });

export const createRunInput = z.object({
  /** The chat context to continue (one Claude session per context); a new one when omitted. */
  // Without its default ("owner", the blocking send's): an omitted context is a new one.
  contextId: sendSessionMessageInput.shape.contextId.unwrap().optional(),
  message: sendSessionMessageInput.shape.message,
});

export const listRunsInput = z.object({
  trigger: runTriggerSchema.optional(),
  status: runStatusSchema.optional(),
  /** The `nextCursor` of the previous page. */
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const runPageSchema = z.object({ runs: z.array(runSchema), nextCursor: z.string().nullable() });
