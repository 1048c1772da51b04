import { z } from "zod";

export const TRIGGER_TYPES = ["email", "cron", "session"] as const;
export const triggerTypeSchema = z.enum(TRIGGER_TYPES);

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
  /** Claude stops a run of this trigger once it has cost this much (USD, by Claude Code's own count); null: no limit. */
  maxBudgetUsd: z.number().nullable().default(null),
  /** Claude stops a run of this trigger after this many turns; null: no limit. */
  maxTurns: z.number().int().nullable().default(null),
  updatedAt: z.date().nullable(),
});

/** Per-run limits of a trigger's agent config, as set (null clears) and as dispatched. */
export const runMaxBudgetUsdSchema = z
  .number()
  .min(0.01, "maxBudgetUsd is at least 0.01 US dollars (null: no limit)")
  .max(10_000, "maxBudgetUsd is at most 10000 US dollars");
export const runMaxTurnsSchema = z
  .number()
  .int("maxTurns is a whole number")
  .min(1, "maxTurns is at least 1 (null: no limit)")
  .max(10_000, "maxTurns is at most 10000");

export const updateAgentConfigInput = z.object({
  triggerType: triggerTypeSchema,
  model: z
    .string()
    .trim()
    .regex(/^[a-zA-Z0-9._:-]{1,100}$/, "model must be a model id such as 'claude-sonnet-4-5'")
    .optional(),
  systemPrompt: z.string().max(50_000, "systemPrompt must be at most 50000 characters").nullable().optional(),
  mcpServers: mcpServersSchema.optional(),
  /** null removes the limit. */
  maxBudgetUsd: runMaxBudgetUsdSchema.nullable().optional(),
  /** null removes the limit. */
  maxTurns: runMaxTurnsSchema.nullable().optional(),
});
