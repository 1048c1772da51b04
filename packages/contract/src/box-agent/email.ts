import { z } from "zod";
import { boxAgentRoute } from "./base";

/**
 * Email ids name files in a box's `~/.inbox`, so nothing but this shape may reach its filesystem: no
 * dots, no slashes, no percent-decoding surprises. The platform's ids are TypeIDs (`email_01j…`).
 */
export const EMAIL_ID_PATTERN = /^[a-z0-9_]{1,80}$/;

export const emailIdSchema = z
  .string()
  .regex(EMAIL_ID_PATTERN, "an email id is 1–80 characters of a-z, 0-9 and '_' (e.g. email_01j…)");

export function isEmailId(value: string): boolean {
  return EMAIL_ID_PATTERN.test(value);
}

/**
 * Generous bounds: a refused delivery is retried until the platform gives up, so an odd but real email
 * (hundreds of recipients, a long References chain) must pass; the platform already capped its size.
 */
const headerText = z.string().max(100_000);

/**
 * What the platform's delivery worker POSTs to `/email/receive`, and what a box's `~/.inbox/{id}.json`
 * holds. Unknown fields are dropped rather than refused, so a newer platform can add some.
 */
export const inboundEmailSchema = z.object({
  id: emailIdSchema,
  messageId: z.string().min(1).max(2000),
  /** The Message-ID of the thread's first email; one thread is one Claude session. */
  threadId: z.string().min(1).max(2000),
  inReplyTo: z.string().max(2000).nullable().default(null),
  references: z.array(z.string().max(2000)).max(10_000).default([]),
  from: headerText,
  to: z.array(headerText).max(10_000).default([]),
  cc: z.array(headerText).max(10_000).default([]),
  subject: headerText.default(""),
  text: z.string().nullable().default(null),
  html: z.string().nullable().default(null),
  attachments: z
    .array(
      z.object({
        filename: z.string().max(1000),
        contentType: z.string().max(255),
        size: z.number().int().min(0),
      }),
    )
    .max(10_000)
    .default([]),
  receivedAt: z.iso.datetime({ offset: true, error: "receivedAt must be an ISO 8601 date-time" }),
  /** Set by the platform when the sender is not on the box's allowlist. */
  untrustedSender: z.boolean(),
});

export type InboundEmail = z.output<typeof inboundEmailSchema>;

/** `202 { id, accepted }` for a new email, `200 { id, duplicate }` for one already stored. */
export const emailReceivedSchema = z.object({
  id: z.string().max(100),
  accepted: z.literal(true).optional(),
  duplicate: z.literal(true).optional(),
});

export const emailListInput = z.object({
  archived: z
    .enum(["true", "false"], { error: "archived must be 'true' or 'false'" })
    .default("false")
    .transform((value) => value === "true"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const emailSummarySchema = z.object({
  id: z.string(),
  from: z.string(),
  subject: z.string(),
  receivedAt: z.string(),
  threadId: z.string(),
  read: z.boolean(),
});

export const emailListSchema = z.object({ emails: z.array(emailSummarySchema) });

/** The id reaches the filesystem; the route refuses anything but the strict id shape itself. */
export const emailIdInput = z.object({ id: z.string() });

export const emailReadSchema = z.object({ id: z.string(), read: z.literal(true), alreadyRead: z.boolean() });

export const email = {
  /** Stores a delivered email (the `Idempotency-Key` header, when sent, must be its id) and starts its run. */
  receive: boxAgentRoute
    .route({ method: "POST", path: "/email/receive", successStatus: 202 })
    .input(inboundEmailSchema)
    .output(emailReceivedSchema),
  list: boxAgentRoute
    .route({ method: "GET", path: "/email/list" })
    .input(emailListInput)
    .output(emailListSchema),
  get: boxAgentRoute
    .route({ method: "GET", path: "/email/{id}" })
    .input(emailIdInput)
    .output(inboundEmailSchema),
  markRead: boxAgentRoute
    .route({ method: "POST", path: "/email/{id}/read" })
    .input(emailIdInput)
    .output(emailReadSchema),
};
