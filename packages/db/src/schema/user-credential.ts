import { pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { user } from "./auth";
import { timestamps } from "./util/columns";

/**
 * A user's own provider keys. Most are handed to their boxes at deploy; ANTHROPIC_API_KEY never is:
 * the model gateway adds it to each model request server-side.
 */
export const userCredential = pgTable(
  "user_credential",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    /** AES-256-GCM ciphertext (see @vps-claude/shared crypto), AAD `user_credential:<id>`. */
    value: text("value").notNull(),
    ...timestamps(),
  },
  (t) => [uniqueIndex("user_credential_user_id_key_idx").on(t.userId, t.key)],
);
