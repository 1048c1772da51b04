import { sql } from "drizzle-orm";
import { timestamp } from "drizzle-orm/pg-core";

export const createdAt = () =>
  timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

/**
 * Set by Postgres on every update. `now()` rather than a Date from the process: a prepared update
 * would otherwise carry the moment it was prepared, forever.
 */
export const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true, mode: "date" })
    .notNull()
    .defaultNow()
    .$onUpdate(() => sql`now()`);

export const timestamps = () => ({ createdAt: createdAt(), updatedAt: updatedAt() });
