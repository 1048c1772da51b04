import {
  date,
  index,
  integer,
  numeric,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { user } from "./auth";
import { runTrigger } from "./box-run";
import { createdAt } from "./util/columns";

export const ledgerKind = pgEnum("ledger_kind", ["model", "media"]);

/**
 * The money ledger: one entry per billable thing a box did, a model request through the gateway or a
 * media call, with its cost from the price table (`null` when the price is unknown — never 0).
 * The box is kept by id and name without a foreign key, so the entry outlives the box.
 */
export const ledgerEntry = pgTable(
  "ledger_entry",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    boxId: text("box_id").notNull(),
    boxName: text("box_name").notNull(),
    /** The run it belongs to, when known (the gateway's `x-vps-run-id`). */
    runId: text("run_id"),
    trigger: runTrigger("trigger"),
    kind: ledgerKind("kind").notNull(),
    /** `anthropic`, `fal`, `replicate`, `elevenlabs`, `google`. */
    provider: text("provider").notNull(),
    /** The model id for model requests; the provider's model for media calls. */
    model: text("model"),
    /** Media only: `image`, `text_to_speech`, `speech_to_text`. */
    capability: text("capability"),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    cacheReadTokens: integer("cache_read_tokens").notNull().default(0),
    cacheWriteTokens: integer("cache_write_tokens").notNull().default(0),
    /** Media only: billed quantity in `unit` (images, characters, seconds). */
    units: numeric("units", { precision: 14, scale: 3, mode: "number" }),
    unit: text("unit"),
    /** From the price table; null when the model or capability has no known price. */
    costUsd: numeric("cost_usd", { precision: 14, scale: 6, mode: "number" }),
    /** The price table's version (its date) the cost was computed with. */
    priceVersion: text("price_version"),
    /** The record it was made from (`model_request.id`, `ai_usage.id`): one entry each. */
    sourceId: text("source_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("ledger_entry_source_id_idx").on(t.sourceId),
    index("ledger_entry_user_id_created_at_idx").on(t.userId, t.createdAt),
    index("ledger_entry_box_id_created_at_idx").on(t.boxId, t.createdAt),
    index("ledger_entry_run_id_idx").on(t.runId),
  ],
);

/**
 * The ledger summed per user, box, UTC day, kind, model and trigger, kept in step with every entry
 * written (same transaction). Budgets and the usage page read this, not the ledger's rows.
 * `model` and `trigger` are '' when the entry had none, so they can be part of the key.
 */
export const usageDaily = pgTable(
  "usage_daily",
  {
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    boxId: text("box_id").notNull(),
    boxName: text("box_name").notNull(),
    day: date("day", { mode: "string" }).notNull(),
    kind: ledgerKind("kind").notNull(),
    model: text("model").notNull().default(""),
    trigger: text("trigger").notNull().default(""),
    entries: integer("entries").notNull().default(0),
    /** Entries whose cost is unknown (not in the price table): their cost is not in `costUsd`. */
    unpricedEntries: integer("unpriced_entries").notNull().default(0),
    inputTokens: numeric("input_tokens", { precision: 20, scale: 0, mode: "number" }).notNull().default(0),
    outputTokens: numeric("output_tokens", { precision: 20, scale: 0, mode: "number" }).notNull().default(0),
    cacheReadTokens: numeric("cache_read_tokens", { precision: 20, scale: 0, mode: "number" })
      .notNull()
      .default(0),
    cacheWriteTokens: numeric("cache_write_tokens", { precision: 20, scale: 0, mode: "number" })
      .notNull()
      .default(0),
    mediaCalls: integer("media_calls").notNull().default(0),
    costUsd: numeric("cost_usd", { precision: 16, scale: 6, mode: "number" }).notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.boxId, t.day, t.kind, t.model, t.trigger] }),
    index("usage_daily_user_id_day_idx").on(t.userId, t.day),
    index("usage_daily_box_id_day_idx").on(t.boxId, t.day),
  ],
);

/** A user's own monthly cap; without a row (or with null) the platform's default applies. */
export const userBudget = pgTable("user_budget", {
  userId: text("user_id")
    .primaryKey()
    .references(() => user.id, { onDelete: "cascade" }),
  monthlyUsd: numeric("monthly_usd", { precision: 12, scale: 2, mode: "number" }),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A budget alert sent: one per cap (`user`, or `box:<id>`), period (`2026-12`) and threshold (80, 100),
 * so the owner gets each once a month however many requests cross it.
 */
export const budgetAlert = pgTable(
  "budget_alert",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    scope: text("scope").notNull(),
    period: text("period").notNull(),
    threshold: integer("threshold").notNull(),
    /** Spend and cap when it was crossed, for the message and the banner. */
    spentUsd: numeric("spent_usd", { precision: 12, scale: 6, mode: "number" }).notNull(),
    capUsd: numeric("cap_usd", { precision: 12, scale: 2, mode: "number" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("budget_alert_once_idx").on(t.userId, t.scope, t.period, t.threshold)],
);
