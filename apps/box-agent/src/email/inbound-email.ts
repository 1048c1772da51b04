import { z } from "zod";

/**
 * Email ids name files in `~/.inbox`, so nothing but this shape may reach the filesystem: no dots,
 * no slashes, no percent-decoding surprises. The platform's ids are TypeIDs (`email_01j…`).
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
 * What the platform's delivery worker POSTs to `/email/receive`, and what `~/.inbox/{id}.json` holds.
 * Unknown fields are dropped rather than refused, so a newer platform can add some.
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
