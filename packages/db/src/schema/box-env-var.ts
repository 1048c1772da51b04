import { pgEnum, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { box } from "./box";
import { timestamps } from "./util/columns";

export const envVarType = pgEnum("env_var_type", ["plain", "secret"]);

export const boxEnvVar = pgTable(
  "box_env_var",
  {
    id: text("id").primaryKey(),
    boxId: text("box_id")
      .notNull()
      .references(() => box.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    type: envVarType("type").notNull(),
    /** Plain text for `plain`; AES-256-GCM ciphertext (AAD `box_env_var:<id>`) for `secret`. */
    value: text("value").notNull(),
    ...timestamps(),
  },
  (t) => [uniqueIndex("box_env_var_box_id_key_idx").on(t.boxId, t.key)],
);
