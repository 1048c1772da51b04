import { index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { box } from "./box";
import { timestamps } from "./util/columns";

export const deployStepStatus = pgEnum("deploy_step_status", [
  "pending",
  "running",
  "completed",
  "failed",
  "skipped",
]);

export const boxDeployStep = pgTable(
  "box_deploy_step",
  {
    id: text("id").primaryKey(),
    boxId: text("box_id")
      .notNull()
      .references(() => box.id, { onDelete: "cascade" }),
    /** The deploy attempt (box.deployId at the time). */
    deployId: text("deploy_id").notNull(),
    /** orchestrator, createSprite, setupStep, healthCheck, skillsGate, installSkill:<name>, enableAccess, finalize. */
    step: text("step").notNull(),
    /** Order of the step in its deploy's plan, for display. */
    position: integer("position").notNull().default(0),
    status: deployStepStatus("status").notNull().default("pending"),
    attempt: integer("attempt").notNull().default(0),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    durationMs: integer("duration_ms"),
    /** The last lines of the step's output, for the box page. */
    logExcerpt: text("log_excerpt"),
    errorMessage: text("error_message"),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("box_deploy_step_deploy_step_idx").on(t.deployId, t.step),
    index("box_deploy_step_box_id_created_at_idx").on(t.boxId, t.createdAt),
  ],
);
