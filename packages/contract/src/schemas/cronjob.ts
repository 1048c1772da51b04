import { cronExpressionSchema, timezoneSchema } from "@vps-claude/shared";
import { z } from "zod";

export const CRONJOB_EXECUTION_STATUSES = [
  "pending",
  "waking_box",
  "running",
  "completed",
  "failed",
  "skipped",
] as const;

export const cronjobSchema = z.object({
  id: z.string(),
  boxId: z.string(),
  name: z.string(),
  schedule: z.string(),
  prompt: z.string(),
  timezone: z.string(),
  enabled: z.boolean(),
  lastRunAt: z.date().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export const cronjobExecutionSchema = z.object({
  id: z.string(),
  cronjobId: z.string(),
  boxId: z.string(),
  status: z.enum(CRONJOB_EXECUTION_STATUSES),
  scheduledFor: z.date(),
  startedAt: z.date().nullable(),
  completedAt: z.date().nullable(),
  durationMs: z.number().nullable(),
  errorMessage: z.string().nullable(),
  sessionId: z.string().nullable(),
  resultExcerpt: z.string().nullable(),
  createdAt: z.date(),
});

export const cronjobFields = {
  name: z.string().trim().min(1, "name must not be empty").max(100, "name must be at most 100 characters"),
  schedule: cronExpressionSchema,
  prompt: z
    .string()
    .trim()
    .min(1, "prompt must not be empty")
    .max(20_000, "prompt must be at most 20000 characters"),
  timezone: timezoneSchema.optional(),
  enabled: z.boolean().optional(),
};

export const createCronjobInput = z.object(cronjobFields);
export const updateCronjobInput = z
  .object({
    name: cronjobFields.name.optional(),
    schedule: cronjobFields.schedule.optional(),
    prompt: cronjobFields.prompt.optional(),
    timezone: cronjobFields.timezone,
    enabled: cronjobFields.enabled,
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), {
    message: "nothing to update: give at least one of name, schedule, prompt, timezone, enabled",
  });

export const toggleCronjobInput = z.object({ enabled: z.boolean().optional() });
