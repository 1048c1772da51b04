import { boolean, index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { user } from "./auth";
import { createdAt } from "./util/columns";

/**
 * One request a box made to the model through the gateway (`/box/llm/*`). The gateway adds the real
 * key server-side, so this is the only complete record of model traffic: the money ledger builds on
 * it. The box is kept by id and name, without a foreign key, so the record outlives the box.
 */
export const modelRequest = pgTable(
  "model_request",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    boxId: text("box_id").notNull(),
    boxName: text("box_name").notNull(),
    /** The `x-vps-run-id` header box-agent sets on each of a run's requests. */
    runId: text("run_id"),
    method: text("method").notNull(),
    /** Path under `/v1`, e.g. `/v1/messages`. */
    path: text("path").notNull(),
    model: text("model"),
    streamed: boolean("streamed").notNull().default(false),
    /** Whose key paid: the owner's own credential or the platform's. */
    keySource: text("key_source").notNull(),
    /** Upstream HTTP status; 0 when the upstream never answered. */
    status: integer("status").notNull(),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    cacheReadTokens: integer("cache_read_tokens").notNull().default(0),
    cacheWriteTokens: integer("cache_write_tokens").notNull().default(0),
    durationMs: integer("duration_ms").notNull(),
    errorMessage: text("error_message"),
    createdAt: createdAt(),
  },
  (t) => [
    index("model_request_user_id_created_at_idx").on(t.userId, t.createdAt),
    index("model_request_box_id_created_at_idx").on(t.boxId, t.createdAt),
    index("model_request_run_id_idx").on(t.runId),
  ],
);
