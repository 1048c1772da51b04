import { integer, jsonb, numeric, pgEnum, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { box } from "./box";
import { timestamps } from "./util/columns";

/** What woke the agent: an email, a cronjob, or the owner talking to it from the dashboard. */
export const agentTriggerType = pgEnum("agent_trigger_type", ["email", "cron", "session"]);

export type McpServerConfig =
  | { type: "stdio"; command: string; args?: string[]; env?: Record<string, string> }
  | { type: "http" | "sse"; url: string; headers?: Record<string, string> };

export const boxAgentConfig = pgTable(
  "box_agent_config",
  {
    id: text("id").primaryKey(),
    boxId: text("box_id")
      .notNull()
      .references(() => box.id, { onDelete: "cascade" }),
    triggerType: agentTriggerType("trigger_type").notNull(),
    model: text("model").notNull(),
    /** Null means the platform's default prompt for the trigger type. */
    systemPrompt: text("system_prompt"),
    /** Extra MCP servers for this trigger, beside box-agent's own. */
    mcpServers: jsonb("mcp_servers").$type<Record<string, McpServerConfig>>().notNull().default({}),
    /** The longest a run of this trigger may take; null means the platform's default (30 minutes). */
    maxDurationMinutes: integer("max_duration_minutes"),
    /** Claude's own stop for one run of this trigger (the SDK's maxBudgetUsd, maxTurns); null: none. */
    maxBudgetUsd: numeric("max_budget_usd", { precision: 10, scale: 2, mode: "number" }),
    maxTurns: integer("max_turns"),
    ...timestamps(),
  },
  (t) => [uniqueIndex("box_agent_config_box_trigger_idx").on(t.boxId, t.triggerType)],
);
