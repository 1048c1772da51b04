import { sql } from "drizzle-orm";
import {
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { user } from "./auth";
import { box } from "./box";
import { createdAt } from "./util/columns";

/** What started a run: the owner's chat, an inbound email, a cron tick, or a caller of the user API. */
export const runTrigger = pgEnum("run_trigger", ["chat", "email", "cron", "api"]);

/**
 * `queued → running → completed | failed | cancelled | interrupted`. `interrupted`: the run was cut
 * off by something outside it (box-agent restarted mid-run, the box vanished, no final event came
 * by the run's deadline); nothing was decided about its work, so the owner may retry it.
 */
export const runStatus = pgEnum("run_status", [
  "queued",
  "running",
  "completed",
  "failed",
  "cancelled",
  "interrupted",
]);

/**
 * One Claude invocation in a box, recorded by the platform. The id is chosen here before dispatch
 * (box-agent accepts it as the run's id), so a repeated dispatch is the same run, and the model
 * gateway's `model_request.run_id` joins on it.
 */
export const boxRun = pgTable(
  "box_run",
  {
    id: text("id").primaryKey(),
    boxId: text("box_id")
      .notNull()
      .references(() => box.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    trigger: runTrigger("trigger").notNull(),
    /** box-agent's thread: `session`/`email`/`cron` and its id (chat context, email thread, cronjob). */
    contextType: text("context_type").notNull(),
    contextId: text("context_id").notNull(),
    /** Claude's session id, once box-agent reports it. */
    sessionId: text("session_id"),
    status: runStatus("status").notNull().default("queued"),
    /** What the run was asked (an excerpt for email and cron runs, whose full input lives elsewhere). */
    prompt: text("prompt").notNull(),
    result: text("result"),
    error: text("error"),
    /** The model the run was dispatched with. */
    model: text("model"),
    /**
     * What is handed to box-agent (`POST /runs`), resolved when the run was started, so a re-dispatch
     * after a crash sends the same (read back through the contract's `runCreateInput`). May hold MCP server headers: never returned by the user API.
     */
    dispatch: jsonb("dispatch").$type<Record<string, unknown>>().notNull(),
    /** The run's own limit: box-agent aborts it after this long, and nothing else cuts it shorter. */
    maxDurationMs: integer("max_duration_ms").notNull(),
    /** When box-agent accepted the dispatch (null: not yet handed over). */
    dispatchedAt: timestamp("dispatched_at", { withTimezone: true }),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    durationMs: integer("duration_ms"),
    inputTokens: integer("input_tokens"),
    outputTokens: integer("output_tokens"),
    cacheReadTokens: integer("cache_read_tokens"),
    cacheWriteTokens: integer("cache_write_tokens"),
    costUsd: real("cost_usd"),
    /** The highest transcript sequence number stored: where a reconnecting follower resumes. */
    lastEventSeq: integer("last_event_seq").notNull().default(0),
    /** What started it; unique, so a retried delivery or tick never starts a second run. */
    emailId: text("email_id"),
    cronjobId: text("cronjob_id"),
    cronjobExecutionId: text("cronjob_execution_id"),
    /** The run this one retries (the owner pressed retry on an interrupted or failed run). */
    retryOf: text("retry_of"),
    createdAt: createdAt(),
  },
  (t) => [
    index("box_run_box_id_created_at_idx").on(t.boxId, t.createdAt),
    index("box_run_status_idx").on(t.status),
    // One first run per email and per tick; an owner's retry (retry_of set) is another.
    uniqueIndex("box_run_email_id_idx").on(t.emailId).where(sql`retry_of IS NULL`),
    uniqueIndex("box_run_cronjob_execution_id_idx").on(t.cronjobExecutionId).where(sql`retry_of IS NULL`),
    index("box_run_cronjob_id_idx").on(t.cronjobId, t.createdAt),
    // A run is retried once; two presses at once must not start two runs.
    uniqueIndex("box_run_retry_of_idx").on(t.retryOf).where(sql`retry_of IS NOT NULL`),
    // Every run of an email, retries included (the unique index above covers first runs only).
    index("box_run_email_id_all_idx").on(t.emailId, t.createdAt),
  ],
);

/** Transcript event kinds as box-agent emits them (see `runEventSchema` in the box-agent contract). */
export const RUN_EVENT_TYPES = ["status", "text", "tool_use", "tool_result", "error", "done"] as const;

/** A run's transcript: one row per event box-agent emitted, in its sequence. */
export const boxRunEvent = pgTable(
  "box_run_event",
  {
    runId: text("run_id")
      .notNull()
      .references(() => boxRun.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    type: text("type").$type<(typeof RUN_EVENT_TYPES)[number]>().notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    /** When box-agent emitted it (its clock). */
    at: timestamp("at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);
