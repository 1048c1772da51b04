import { z } from "zod";

export const DEPLOY_STEP_STATUSES = ["pending", "running", "completed", "failed", "skipped"] as const;

export const deployStepSchema = z.object({
  step: z.string(),
  label: z.string(),
  status: z.enum(DEPLOY_STEP_STATUSES),
  attempt: z.number(),
  startedAt: z.date().nullable(),
  completedAt: z.date().nullable(),
  durationMs: z.number().nullable(),
  logExcerpt: z.string().nullable(),
  errorMessage: z.string().nullable(),
});

export const deployStepsSchema = z.object({
  deployId: z.string().nullable(),
  steps: z.array(deployStepSchema),
});

export const boxAccessSchema = z.object({ password: z.string().nullable() });
