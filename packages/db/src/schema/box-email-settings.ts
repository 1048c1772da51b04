import { pgEnum, pgTable, text } from "drizzle-orm/pg-core";
import { box } from "./box";
import { timestamps } from "./util/columns";

export const senderPolicy = pgEnum("sender_policy", ["anyone", "allowlist"]);

export const boxEmailSettings = pgTable("box_email_settings", {
  id: text("id").primaryKey(),
  boxId: text("box_id")
    .notNull()
    .unique()
    .references(() => box.id, { onDelete: "cascade" }),
  /** The box token (64 hex chars), AES-256-GCM encrypted, AAD `box_email_settings:<id>`. */
  agentSecret: text("agent_secret").notNull(),
  /** HMAC-SHA256 of the token, so a request's token finds its box without decrypting every row. */
  agentSecretHash: text("agent_secret_hash").notNull().unique(),
  /** `anyone`: every sender reaches the agent; `allowlist`: only `allowedSenders` (others are kept, not delivered). */
  senderPolicy: senderPolicy("sender_policy").notNull().default("anyone"),
  /** Addresses or `@domain` entries. */
  allowedSenders: text("allowed_senders").array().notNull().default([]),
  blockedSenders: text("blocked_senders").array().notNull().default([]),
  ...timestamps(),
});
