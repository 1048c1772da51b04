import {
  boxNameSchema,
  credentialKeySchema,
  cronExpressionSchema,
  envVarKeySchema,
  secretValueSchema,
  skillNameSchema,
  timezoneSchema,
} from "@vps-claude/shared";
import { z } from "zod";

export const idParam = z.string().min(1).max(100);

export const boxSchema = z.object({
  id: z.string(),
  name: z.string(),
  subdomain: z.string(),
  email: z.string(),
  status: z.enum(["pending", "deploying", "running", "error", "deleting"]),
  errorMessage: z.string().nullable(),
  skills: z.array(z.string()),
  spriteUrl: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export const createBoxInput = z.object({
  name: boxNameSchema,
  skills: z.array(skillNameSchema).max(20, "at most 20 skills per box").default([]),
});

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
  status: z.enum(["pending", "waking_box", "running", "completed", "failed"]),
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

export const credentialSchema = z.object({
  key: z.string(),
  maskedValue: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export const credentialKey = credentialKeySchema;

export const envVarSchema = z.object({
  key: z.string(),
  type: z.enum(["plain", "secret"]),
  value: z.string().nullable(),
  maskedValue: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export const envVarKey = envVarKeySchema;
export const envVarType = z.enum(["plain", "secret"]);
export const secretValue = secretValueSchema;

export const deletedSchema = z.object({ key: z.string(), deleted: z.literal(true) });

export const triggerTypeSchema = z.enum(["email", "cron", "session"]);

const stringRecord = z.record(z.string().max(256), z.string().max(4096));
export const mcpServerSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("stdio"),
    command: z.string().min(1).max(1024),
    args: z.array(z.string().max(4096)).max(64).optional(),
    env: stringRecord.optional(),
  }),
  z.object({
    type: z.enum(["http", "sse"]),
    url: z.url({ protocol: /^https?$/, message: "MCP server url must be an http(s) URL" }),
    headers: stringRecord.optional(),
  }),
]);

export const mcpServersSchema = z
  .record(
    z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "MCP server names are 1–64 letters, digits, '_' or '-'"),
    mcpServerSchema,
  )
  .refine((servers) => !("box-agent" in servers), {
    message: "'box-agent' is reserved for the built-in tools",
  })
  .refine((servers) => Object.keys(servers).length <= 20, { message: "at most 20 MCP servers" });

export const agentConfigSchema = z.object({
  triggerType: triggerTypeSchema,
  model: z.string(),
  systemPrompt: z.string(),
  isDefaultPrompt: z.boolean(),
  mcpServers: z.record(z.string(), mcpServerSchema),
  updatedAt: z.date().nullable(),
});

export const updateAgentConfigInput = z.object({
  triggerType: triggerTypeSchema,
  model: z
    .string()
    .trim()
    .regex(/^[a-zA-Z0-9._:-]{1,100}$/, "model must be a model id such as 'claude-sonnet-4-5'")
    .optional(),
  systemPrompt: z.string().max(50_000, "systemPrompt must be at most 50000 characters").nullable().optional(),
  mcpServers: mcpServersSchema.optional(),
});

export const emailStatusSchema = z.enum(["received", "queued", "delivered", "sent", "failed", "rejected"]);

export const emailSummarySchema = z.object({
  id: z.string(),
  direction: z.enum(["inbound", "outbound"]),
  status: emailStatusSchema,
  threadId: z.string(),
  messageId: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  subject: z.string(),
  attempts: z.number(),
  errorMessage: z.string().nullable(),
  createdAt: z.date(),
  deliveredAt: z.date().nullable(),
  sentAt: z.date().nullable(),
});

/** The receiving side's SPF/DKIM/DMARC verdict on an inbound email. */
export const emailAuthenticationSchema = z.object({
  source: z.enum(["smtp", "resend", "none"]),
  spf: z.string(),
  dkim: z.string(),
  dmarc: z.string(),
  authenticated: z.boolean(),
  domain: z.string().optional(),
});

export const emailDetailSchema = emailSummarySchema.extend({
  cc: z.array(z.string()),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  text: z.string().nullable(),
  html: z.string().nullable(),
  markdown: z.string().nullable(),
  provider: z.string(),
  providerMessageId: z.string().nullable(),
  untrustedSender: z.boolean(),
  authentication: emailAuthenticationSchema.nullable(),
  attachments: z.array(z.object({ filename: z.string(), contentType: z.string(), size: z.number() })),
});

const senderRule = z
  .string()
  .trim()
  .toLowerCase()
  .refine((rule) => /^@[a-z0-9.-]+\.[a-z]{2,}$/.test(rule) || z.email().safeParse(rule).success, {
    message: "each entry must be an email address or '@domain.tld'",
  });

export const emailSettingsSchema = z.object({
  address: z.string(),
  senderPolicy: z.enum(["anyone", "allowlist"]),
  allowedSenders: z.array(z.string()),
  blockedSenders: z.array(z.string()),
});

export const updateEmailSettingsInput = z.object({
  senderPolicy: z.enum(["anyone", "allowlist"]).optional(),
  allowedSenders: z.array(senderRule).max(500).optional(),
  blockedSenders: z.array(senderRule).max(500).optional(),
});

const recipientList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(",")).map((entry) => entry.trim()).filter(Boolean),
  )
  .pipe(z.array(z.email("each recipient must be a valid email address")).max(50, "at most 50 recipients"));

export const sendEmailInput = z.object({
  to: recipientList.refine((list) => list.length > 0, { message: "at least one recipient is required" }),
  cc: recipientList.optional(),
  subject: z.string().max(998, "subject must be at most 998 characters").optional(),
  body: z.string().min(1, "body must not be empty").max(512_000, "body must be at most 500 KiB of markdown"),
  replyToEmailId: z.string().max(100).optional(),
});

export const deployStepSchema = z.object({
  step: z.string(),
  label: z.string(),
  status: z.enum(["pending", "running", "completed", "failed", "skipped"]),
  attempt: z.number(),
  startedAt: z.date().nullable(),
  completedAt: z.date().nullable(),
  durationMs: z.number().nullable(),
  logExcerpt: z.string().nullable(),
  errorMessage: z.string().nullable(),
});

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

/** A box's answers are untrusted: each field has the type and a size the dashboard can show. */
const boxText = (max: number) => z.string().max(max);

export const sessionRecordedRunSchema = z.object({
  id: boxText(256),
  contextType: z.enum(["session", "cron", "email"]),
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
  contextType: z.enum(["session", "cron", "email"]),
  contextId: boxText(256),
  sessionId: boxText(256).nullable(),
  createdAt: boxText(64).nullable(),
  updatedAt: boxText(64).nullable(),
  runs: z.array(sessionRecordedRunSchema).max(100),
});

export const sessionListSchema = z.object({ sessions: z.array(sessionContextSchema).max(500) });
