import { index, jsonb, numeric, pgEnum, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { user } from "./auth";
import { timestamps } from "./util/columns";

export const boxStatus = pgEnum("box_status", ["pending", "deploying", "running", "error", "deleting"]);

/**
 * Where a box's sandbox may open connections, beyond the platform's box API which it always reaches.
 * `internet`: any public address; `allowlist`: only `domains` (and their subdomains); `platform`: nothing else.
 * Private, loopback, link-local and metadata ranges are closed in every mode.
 */
export interface BoxNetworkPolicy {
  mode: "internet" | "allowlist" | "platform";
  domains: string[];
}

export const box = pgTable(
  "box",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** `{slug}-{4 chars}`; also the local part of the box's email address. */
    subdomain: text("subdomain").notNull().unique(),
    status: boxStatus("status").notNull().default("pending"),
    /** Why the box is in `error`, in words a user can act on. */
    errorMessage: text("error_message"),
    spriteName: text("sprite_name").unique(),
    spriteUrl: text("sprite_url"),
    skills: text("skills").array().notNull().default([]),
    /** Id of the deploy attempt in progress or last run; deploy steps are grouped by it. */
    deployId: text("deploy_id"),
    /** Encrypted password for the owner's direct access to the box (set by EnableAccess). */
    accessPassword: text("access_password"),
    networkPolicy: jsonb("network_policy")
      .$type<BoxNetworkPolicy>()
      .notNull()
      .default({ mode: "internet", domains: [] }),
    lastDeployedAt: timestamp("last_deployed_at", { withTimezone: true }),
    /** The owner's monthly cap for this box alone (USD); null: only the user's cap applies. */
    monthlyBudgetUsd: numeric("monthly_budget_usd", { precision: 12, scale: 2, mode: "number" }),
    ...timestamps(),
  },
  (t) => [index("box_user_id_created_at_idx").on(t.userId, t.createdAt)],
);
