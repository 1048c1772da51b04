import { z } from "zod";
import { idParam } from "./common";

export const EMAIL_STATUSES = [
  "received",
  "queued",
  "delivered",
  "processed",
  "sent",
  "failed",
  "rejected",
] as const;
export const emailStatusSchema = z.enum(EMAIL_STATUSES);
export const EMAIL_DIRECTIONS = ["inbound", "outbound"] as const;
export const SENDER_POLICIES = ["anyone", "allowlist"] as const;

export const emailSummarySchema = z.object({
  id: z.string(),
  direction: z.enum(EMAIL_DIRECTIONS),
  status: emailStatusSchema,
  threadId: z.string(),
  messageId: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  subject: z.string(),
  attempts: z.number(),
  errorMessage: z.string().nullable(),
  createdAt: z.date(),
  deliveredAt: z.date().nullable(),
  sentAt: z.date().nullable(),
  /**
   * Inbound: the email's latest run (`GET /box/{boxId}/runs/{runId}`), the one answering it or the
   * owner's last retry; null before it has one and for outbound mail.
   */
  runId: z.string().nullable(),
});

/** The receiving side's SPF/DKIM/DMARC verdict on an inbound email. */
export const emailAuthenticationSchema = z.object({
  source: z.enum(["smtp", "resend", "none"]),
  spf: z.string(),
  dkim: z.string(),
  dmarc: z.string(),
  authenticated: z.boolean(),
  domain: z.string().optional(),
});

export const emailDetailSchema = emailSummarySchema.extend({
  cc: z.array(z.string()),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  text: z.string().nullable(),
  html: z.string().nullable(),
  markdown: z.string().nullable(),
  provider: z.string(),
  providerMessageId: z.string().nullable(),
  untrustedSender: z.boolean(),
  /** Inbound only; null for outbound mail and mail stored before senders were checked. */
  authentication: emailAuthenticationSchema.nullable(),
  attachments: z.array(z.object({ filename: z.string(), contentType: z.string(), size: z.number() })),
});

/** An attachment's place in its email's `attachments`, from 0 (the download route's path segment). */
export const attachmentIndex = z.coerce
  .number({ error: "index must be a whole number from 0" })
  .int("index must be a whole number from 0")
  .min(0, "index must be a whole number from 0");

/** A download: the bytes as a `File` (its type is the answer's Content-Type) and the headers that make it one. */
export const emailAttachmentDownloadSchema = z.object({
  headers: z.object({
    "content-disposition": z.string(),
    "x-content-type-options": z.literal("nosniff"),
    "cache-control": z.string(),
  }),
  body: z.file(),
});

export const emailListFilter = z.object({
  direction: z.enum(EMAIL_DIRECTIONS).optional(),
  status: emailStatusSchema.optional(),
  threadId: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: idParam.optional(),
});

const senderRule = z
  .string()
  .trim()
  .toLowerCase()
  .refine((rule) => /^@[a-z0-9.-]+\.[a-z]{2,}$/.test(rule) || z.email().safeParse(rule).success, {
    message: "each entry must be an email address or '@domain.tld'",
  });

export const emailSettingsSchema = z.object({
  address: z.string(),
  senderPolicy: z.enum(SENDER_POLICIES),
  allowedSenders: z.array(z.string()),
  blockedSenders: z.array(z.string()),
});

export const updateEmailSettingsInput = z.object({
  senderPolicy: z.enum(SENDER_POLICIES).optional(),
  allowedSenders: z.array(senderRule).max(500).optional(),
  blockedSenders: z.array(senderRule).max(500).optional(),
});

const recipientList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(",")).map((entry) => entry.trim()).filter(Boolean),
  )
  .pipe(z.array(z.email("each recipient must be a valid email address")).max(50, "at most 50 recipients"));

/** `POST /box/email/send`: the body is Markdown; the platform renders it and threads replies. */
export const sendEmailInput = z.object({
  to: recipientList.refine((list) => list.length > 0, { message: "at least one recipient is required" }),
  cc: recipientList.optional(),
  /** Optional only with `replyToEmailId`: the platform then uses "Re: <parent subject>". */
  subject: z.string().max(998, "subject must be at most 998 characters").optional(),
  body: z.string().min(1, "body must not be empty").max(512_000, "body must be at most 500 KiB of markdown"),
  replyToEmailId: z.string().max(100).optional(),
});

export const queuedEmailSchema = z.object({
  id: z.string(),
  status: z.string(),
  messageId: z.string(),
  threadId: z.string(),
  subject: z.string(),
});
