import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { box } from "./box";
import { timestamps } from "./util/columns";

export const emailDirection = pgEnum("email_direction", ["inbound", "outbound"]);
export const emailStatus = pgEnum("email_status", [
  "received",
  "queued",
  "delivered",
  /** Delivered and its run ended (completed); `failed` with the reason when the run did not. */
  "processed",
  "sent",
  "failed",
  "rejected",
]);

export interface EmailAttachmentMeta {
  filename: string;
  contentType: string;
  size: number;
  /** Where the bytes live in @vps-claude/storage. */
  storageKey?: string;
  contentId?: string;
}

/** The receiving side's verdict on who really sent an inbound email (SPF, DKIM, DMARC). */
export interface EmailAuthentication {
  /** `smtp`: checked here with mailauth; `resend`: Resend's own results; `none`: nothing could be checked. */
  source: "smtp" | "resend" | "none";
  spf: string;
  dkim: string;
  dmarc: string;
  /** True only when DMARC passed (or SPF/DKIM passed aligned with the From domain). */
  authenticated: boolean;
  /** The From domain the verdict speaks for. */
  domain?: string;
}

export const boxEmail = pgTable(
  "box_email",
  {
    id: text("id").primaryKey(),
    boxId: text("box_id")
      .notNull()
      .references(() => box.id, { onDelete: "cascade" }),
    direction: emailDirection("direction").notNull(),
    status: emailStatus("status").notNull(),
    /** RFC 5322 Message-ID, angle brackets included. */
    messageId: text("message_id").notNull(),
    inReplyTo: text("in_reply_to"),
    references: text("references").array().notNull().default([]),
    /** Message-ID of the first message of the thread; one thread is one Claude session. */
    threadId: text("thread_id").notNull(),
    fromAddress: text("from_address").notNull(),
    toAddresses: text("to_addresses").array().notNull(),
    ccAddresses: text("cc_addresses").array().notNull().default([]),
    subject: text("subject").notNull().default(""),
    /** What the agent wrote (outbound): rendered into `htmlBody` and `textBody` when sent. */
    bodyMarkdown: text("body_markdown"),
    textBody: text("text_body"),
    htmlBody: text("html_body"),
    attachments: jsonb("attachments").$type<EmailAttachmentMeta[]>().notNull().default([]),
    /** resend | smtp | outbox: who received or sent it. */
    provider: text("provider").notNull(),
    /** The provider's id (Resend email id, SMTP queue id); unique per provider so retries dedupe. */
    providerMessageId: text("provider_message_id"),
    /** Inbound mail from a sender the box's rules do not trust is kept but flagged. */
    untrustedSender: boolean("untrusted_sender").notNull().default(false),
    /** Inbound: the SPF/DKIM/DMARC verdict; null for outbound mail and mail stored before it was checked. */
    authentication: jsonb("authentication").$type<EmailAuthentication>(),
    attempts: integer("attempts").notNull().default(0),
    errorMessage: text("error_message"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    ...timestamps(),
  },
  (t) => [
    index("box_email_box_id_created_at_idx").on(t.boxId, t.createdAt),
    index("box_email_box_id_thread_id_idx").on(t.boxId, t.threadId),
    // The reconciler's scan of inbound mail not yet finished; the rest of the table is never read so.
    index("box_email_unfinished_idx").on(t.status).where(sql`status in ('received', 'queued', 'delivered')`),
    uniqueIndex("box_email_box_direction_message_id_idx").on(t.boxId, t.direction, t.messageId),
    uniqueIndex("box_email_provider_message_id_idx")
      .on(t.provider, t.providerMessageId)
      .where(sql`${t.providerMessageId} is not null`),
  ],
);

/**
 * Inbound mail that matched no box. Kept (not silently dropped) so an operator can see misrouted
 * mail, and acknowledged to the provider so it is not retried forever.
 */
export const unroutedEmail = pgTable(
  "unrouted_email",
  {
    id: text("id").primaryKey(),
    provider: text("provider").notNull(),
    providerMessageId: text("provider_message_id"),
    messageId: text("message_id"),
    fromAddress: text("from_address").notNull(),
    toAddresses: text("to_addresses").array().notNull(),
    subject: text("subject").notNull().default(""),
    reason: text("reason").notNull(),
    ...timestamps(),
  },
  (t) => [
    index("unrouted_email_created_at_idx").on(t.createdAt),
    uniqueIndex("unrouted_email_provider_message_id_idx")
      .on(t.provider, t.providerMessageId)
      .where(sql`${t.providerMessageId} is not null`),
  ],
);
