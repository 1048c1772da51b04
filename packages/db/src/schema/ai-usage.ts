import { index, numeric, pgEnum, pgTable, text } from "drizzle-orm/pg-core";
import { user } from "./auth";
import { box } from "./box";
import { createdAt } from "./util/columns";

export const aiCapability = pgEnum("ai_capability", ["image", "text_to_speech", "speech_to_text"]);

export const aiUsage = pgTable(
  "ai_usage",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    /** Kept when the box is deleted so the owner's spend history stays complete. */
    boxId: text("box_id").references(() => box.id, { onDelete: "set null" }),
    provider: text("provider").notNull(),
    capability: aiCapability("capability").notNull(),
    /** Billed quantity in `unit`: images, characters, or seconds of audio. */
    units: numeric("units", { precision: 14, scale: 3, mode: "number" }).notNull(),
    unit: text("unit").notNull(),
    costUsd: numeric("cost_usd", { precision: 12, scale: 6, mode: "number" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("ai_usage_user_id_created_at_idx").on(t.userId, t.createdAt),
    index("ai_usage_box_id_idx").on(t.boxId),
  ],
);
