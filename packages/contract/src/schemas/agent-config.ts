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
