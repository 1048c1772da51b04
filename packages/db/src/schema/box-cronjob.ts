import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  pgEnum,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { box } from "./box";
import { createdAt, timestamps } from "./util/columns";

/** A tick while the previous tick's run still works: `skip` records it skipped, `queue` runs it after. */
export const cronjobOverlap = pgEnum("cronjob_overlap", ["skip", "queue"]);
/** `fresh`: each tick is a new Claude session; `continue`: every tick resumes the cronjob's one session. */
export const cronjobSessionMode = pgEnum("cronjob_session_mode", ["fresh", "continue"]);

export const boxCronjob = pgTable(
  "box_cronjob",
  {
    id: text("id").primaryKey(),
    boxId: text("box_id")
      .notNull()
      .references(() => box.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** Five-field cron expression, evaluated in `timezone`. */
    schedule: text("schedule").notNull(),
    prompt: text("prompt").notNull(),
    /** IANA time zone name. */
    timezone: text("timezone").notNull().default("UTC"),
    enabled: boolean("enabled").notNull().default(true),
    overlap: cronjobOverlap("overlap").notNull().default("skip"),
    sessionMode: cronjobSessionMode("session_mode").notNull().default("fresh"),
    /** Overrides the cron agent config's model for this job; null: the agent config's. */
    model: text("model"),
    /** The longest one tick's run may take (up to 4 hours); null: the cron agent config's limit. */
    maxDurationMinutes: integer("max_duration_minutes"),
    lastRunAt: timestamp("last_run_at", { withTimezone: true }),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("box_cronjob_box_id_name_idx").on(t.boxId, t.name),
    index("box_cronjob_enabled_idx").on(t.enabled),
  ],
);

export const cronjobExecutionStatus = pgEnum("cronjob_execution_status", [
  "pending",
  "waking_box",
  "running",
  "completed",
  "failed",
  /** The tick came but nothing ran (the cronjob was disabled). */
  "skipped",
]);

export const boxCronjobExecution = pgTable(
  "box_cronjob_execution",
  {
    id: text("id").primaryKey(),
    cronjobId: text("cronjob_id")
      .notNull()
      .references(() => boxCronjob.id, { onDelete: "cascade" }),
    boxId: text("box_id")
      .notNull()
      .references(() => box.id, { onDelete: "cascade" }),
    status: cronjobExecutionStatus("status").notNull().default("pending"),
    /** The tick this execution belongs to; unique per cronjob so a re-delivered tick runs once. */
    scheduledFor: timestamp("scheduled_for", { withTimezone: true }).notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    durationMs: integer("duration_ms"),
    errorMessage: text("error_message"),
    /** Claude session the run used (box-agent's session store id). */
    sessionId: text("session_id"),
    resultExcerpt: text("result_excerpt"),
    /** The run this tick started (box_run.id); null for a tick that started none. */
    runId: text("run_id"),
    /** What the run cost, once it ended. */
    costUsd: real("cost_usd"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("box_cronjob_execution_cronjob_tick_idx").on(t.cronjobId, t.scheduledFor),
    index("box_cronjob_execution_cronjob_created_idx").on(t.cronjobId, t.createdAt),
    index("box_cronjob_execution_box_id_idx").on(t.boxId),
    // The reconciler's scan of executions not yet ended.
    index("box_cronjob_execution_unfinished_idx")
      .on(t.status)
      .where(sql`status in ('pending', 'waking_box', 'running')`),
  ],
);
