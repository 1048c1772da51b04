import { cronExpressionSchema, timezoneSchema } from "@vps-claude/shared/schemas";
import { z } from "zod";
import { updateAgentConfigInput } from "./agent-config";

export const CRONJOB_EXECUTION_STATUSES = [
  "pending",
  "waking_box",
  "running",
  "completed",
  "failed",
  "skipped",
] as const;

/** A tick while the previous tick's run still works: `skip` records it skipped, `queue` runs it after. */
export const CRONJOB_OVERLAPS = ["skip", "queue"] as const;
/** `fresh`: each tick is a new Claude session; `continue`: every tick resumes the cronjob's one session. */
export const CRONJOB_SESSION_MODES = ["fresh", "continue"] as const;

/** The longest a cronjob may let one tick's run take: 4 hours (the run limit's ceiling). */
export const MAX_CRONJOB_DURATION_MINUTES = 240;
/** How many upcoming fire times a cronjob's DTO lists. */
export const CRONJOB_NEXT_RUNS = 5;

export const cronjobSchema = z.object({
  id: z.string(),
  boxId: z.string(),
  name: z.string(),
  schedule: z.string(),
  prompt: z.string(),
  timezone: z.string(),
  enabled: z.boolean(),
  overlap: z.enum(CRONJOB_OVERLAPS),
  session: z.enum(CRONJOB_SESSION_MODES),
  /** The model this job's runs use; null: the cron agent config's. */
  model: z.string().nullable(),
  /** The longest one tick's run may take; null: the cron agent config's limit. */
  maxDurationMinutes: z.number().nullable(),
  /** The next fire times in the scheduler's reckoning (in the job's time zone); empty while disabled. */
  nextRuns: z.array(z.date()),
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
  /** The run this tick started (see the box's runs); null for a tick that started none. */
  runId: z.string().nullable(),
  /** What the run cost, once it ended. */
  costUsd: z.number().nullable(),
  createdAt: z.date(),
});

/** The agent config's own rule, so a cronjob accepts exactly the model ids an agent config does. */
const modelIdSchema = updateAgentConfigInput.shape.model.unwrap();

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
  overlap: z
    .enum(CRONJOB_OVERLAPS, { error: "overlap must be 'skip' or 'queue'" })
    .optional()
    .describe(
      "A tick while the previous run still works: 'skip' (default) records it skipped, 'queue' runs it after.",
    ),
  session: z
    .enum(CRONJOB_SESSION_MODES, { error: "session must be 'fresh' or 'continue'" })
    .optional()
    .describe(
      "'fresh' (default): a new Claude session each tick; 'continue': every tick resumes the job's session.",
    ),
  model: modelIdSchema
    .nullable()
    .optional()
    .describe("The model for this job's runs; null: the cron agent config's."),
  maxDurationMinutes: z
    .number({ error: "maxDurationMinutes must be a whole number of minutes" })
    .int("maxDurationMinutes must be a whole number of minutes")
    .min(1, "maxDurationMinutes must be at least 1")
    .max(
      MAX_CRONJOB_DURATION_MINUTES,
      `maxDurationMinutes must be at most ${MAX_CRONJOB_DURATION_MINUTES} (4 hours)`,
    )
    .nullable()
    .optional()
    .describe("The longest one tick's run may take, 1–240 minutes; null: the cron agent config's limit."),
};

export const createCronjobInput = z.object(cronjobFields);
export const updateCronjobInput = z
  .object({
    name: cronjobFields.name.optional(),
    schedule: cronjobFields.schedule.optional(),
    prompt: cronjobFields.prompt.optional(),
    timezone: cronjobFields.timezone,
    enabled: cronjobFields.enabled,
    overlap: cronjobFields.overlap,
    session: cronjobFields.session,
    model: cronjobFields.model,
    maxDurationMinutes: cronjobFields.maxDurationMinutes,
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), {
    message:
      "nothing to update: give at least one of name, schedule, prompt, timezone, enabled, overlap, session, model, maxDurationMinutes",
  });

export const toggleCronjobInput = z.object({ enabled: z.boolean().optional() });
