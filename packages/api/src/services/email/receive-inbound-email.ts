import { box, boxEmail, boxEmailSettings, unroutedEmail } from "@vps-claude/db";
import {
  type EmailAuthenticationVerdict,
  generateMessageId,
  normalizeMessageId,
  normalizeRecipient,
  UNCHECKED_EMAIL,
} from "@vps-claude/email";
import { newId } from "@vps-claude/shared";
import { safeFileName } from "@vps-claude/storage";
import { and, eq, inArray, ne } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { resolveThreadId } from "./resolve-thread";

export interface InboundAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
  contentId?: string | null;
}

/** One inbound message as either entry point (Resend webhook, SMTP listener) hands it over. */
export interface InboundMessage {
  provider: "resend" | "smtp";
  /** The provider's id of this message (Resend email_id; for SMTP a hash of the raw bytes). */
  providerMessageId: string;
  messageId?: string | null;
  inReplyTo?: string | null;
  references: string[];
  from: string;
  to: string[];
  cc: string[];
  /** Where the provider says it was delivered (SMTP RCPT TO, Resend received_for); falls back to to+cc. */
  recipients?: string[];
  subject: string;
  text?: string | null;
  html?: string | null;
  attachments: InboundAttachment[];
  /** Who really sent it (SPF/DKIM/DMARC); absent → nothing was checked, the sender is unauthenticated. */
  authentication?: EmailAuthenticationVerdict;
}

export interface InboundResult {
  /** One entry per box the message was addressed to. */
  accepted: { boxId: string; emailId: string; duplicate: boolean; status: string }[];
  unrouted: boolean;
}

/** Mail we accept from the provider but cannot hand to a box: kept for the operator, never retried. */
export async function recordUnroutedEmail({
  deps,
  provider,
  providerMessageId,
  messageId,
  from,
  to,
  subject,
  reason,
}: {
  deps: Pick<ApiDeps, "db" | "logger">;
  provider: string;
  providerMessageId: string;
  messageId?: string;
  from: string;
  to: string[];
  subject: string;
  reason: string;
}) {
  await deps.db
    .insert(unroutedEmail)
    .values({
      id: newId("unroutedEmail"),
      provider,
      providerMessageId,
      messageId: messageId ?? null,
      fromAddress: from,
      toAddresses: to,
      subject,
      reason,
    })
    .onConflictDoNothing();
  deps.logger.warn({ to, provider, reason }, "inbound email not routed to a box");
}

/** Finds the box for an address at our domain: `subdomain@domain`, tolerating `subdomain+tag@` and any case. */
export async function findBoxForAddress(deps: Pick<ApiDeps, "db" | "config">, address: string) {
  const recipient = normalizeRecipient(address);
  if (!recipient || recipient.domain !== deps.config.agentsDomain.toLowerCase()) {
    return undefined;
  }
  const [row] = await deps.db
    .select()
    .from(box)
    .where(and(eq(box.subdomain, recipient.local), ne(box.status, "deleting")))
    .limit(1);
  return row;
}

const NOT_ALLOWED = "sender is not allowed by this box's sender rules; kept, not delivered";

/**
 * Why the box's sender rules refuse this message, or null when they let it through. The From header
 * is whatever the sender typed, so the allowlist matches only when the verdict authenticates the
 * From domain; the blocklist needs no proof (claiming to be a blocked sender gains nothing).
 */
function senderRefusal(
  settings: typeof boxEmailSettings.$inferSelect | undefined,
  from: string,
  authentication: EmailAuthenticationVerdict,
): string | null {
  if (!settings) {
    return null;
  }
  const sender = normalizeRecipient(from);
  if (!sender) {
    return NOT_ALLOWED;
  }
  const matches = (rule: string) => {
    const normalized = rule.trim().toLowerCase();
    return normalized.startsWith("@") ? sender.domain === normalized.slice(1) : sender.address === normalized;
  };
  if (settings.blockedSenders.some(matches)) {
    return NOT_ALLOWED;
  }
  if (settings.senderPolicy === "anyone") {
    return null;
  }
  if (!settings.allowedSenders.some(matches)) {
    return NOT_ALLOWED;
  }
  if (!authentication.authenticated || authentication.domain?.toLowerCase() !== sender.domain) {
    return (
      `the From address ${sender.address} is on the allowlist, but the message does not prove it came from ` +
      `${sender.domain} (SPF ${authentication.spf}, DKIM ${authentication.dkim}, DMARC ${authentication.dmarc}); ` +
      "kept as untrusted, not delivered"
    );
  }
  return null;
}

/**
 * The one inbound path. Stores the message for each box it is addressed to (status `received`),
 * then queues its delivery. The database decides duplicates (provider id, Message-ID per box), so a
 * replayed webhook or a re-sent SMTP message is stored and delivered once. Resolves only after the
 * rows are committed: callers acknowledge the sender after that.
 */
export async function receiveInboundEmail({
  deps,
  message,
}: {
  deps: ApiDeps;
  message: InboundMessage;
}): Promise<InboundResult> {
  const recipients = [
    ...new Set(
      (message.recipients?.length ? message.recipients : [...message.to, ...message.cc]).map((a) =>
        a.toLowerCase(),
      ),
    ),
  ];
  const boxes = new Map<string, typeof box.$inferSelect>();
  for (const address of recipients) {
    const target = await findBoxForAddress(deps, address);
    if (target) {
      boxes.set(target.id, target);
    }
  }

  if (boxes.size === 0) {
    await deps.db
      .insert(unroutedEmail)
      .values({
        id: newId("unroutedEmail"),
        provider: message.provider,
        providerMessageId: message.providerMessageId,
        messageId: normalizeMessageId(message.messageId) ?? null,
        fromAddress: message.from,
        toAddresses: recipients,
        subject: message.subject,
        reason: `no box has the address ${recipients.join(", ")}`,
      })
      .onConflictDoNothing();
    deps.logger.warn(
      { to: recipients, provider: message.provider },
      "inbound email for an unknown recipient",
    );
    return { accepted: [], unrouted: true };
  }

  const messageId = normalizeMessageId(message.messageId) ?? generateMessageId(deps.config.agentsDomain);
  const references = message.references
    .map((ref) => normalizeMessageId(ref))
    .filter((ref): ref is string => Boolean(ref));
  const inReplyTo = normalizeMessageId(message.inReplyTo) ?? null;
  const settingsRows = await deps.db
    .select()
    .from(boxEmailSettings)
    .where(inArray(boxEmailSettings.boxId, [...boxes.keys()]));

  const authentication = message.authentication ?? UNCHECKED_EMAIL;
  const accepted: InboundResult["accepted"] = [];
  for (const target of boxes.values()) {
    const emailId = newId("email");
    const refusal = senderRefusal(
      settingsRows.find((row) => row.boxId === target.id),
      message.from,
      authentication,
    );
    const allowed = refusal === null;
    const attachments = [];
    for (const [index, attachment] of message.attachments.entries()) {
      const storageKey = `attachments/${emailId}/${index}-${safeFileName(attachment.filename)}`;
      await deps.storage.put(storageKey, attachment.content);
      attachments.push({
        filename: attachment.filename,
        contentType: attachment.contentType,
        size: attachment.content.length,
        storageKey,
        contentId: attachment.contentId ?? undefined,
      });
    }
    const threadId = await resolveThreadId({
      db: deps.db,
      boxId: target.id,
      messageId,
      inReplyTo,
      references,
    });
    // Several boxes may share one message; the provider id stays unique per box by suffixing the box.
    const providerMessageId =
      boxes.size > 1 ? `${message.providerMessageId}#${target.id}` : message.providerMessageId;
    const [inserted] = await deps.db
      .insert(boxEmail)
      .values({
        id: emailId,
        boxId: target.id,
        direction: "inbound",
        status: allowed ? "received" : "rejected",
        messageId,
        inReplyTo,
        references,
        threadId,
        fromAddress: message.from,
        toAddresses: message.to,
        ccAddresses: message.cc,
        subject: message.subject,
        textBody: message.text ?? null,
        htmlBody: message.html ?? null,
        attachments,
        provider: message.provider,
        providerMessageId,
        untrustedSender: !allowed,
        authentication,
        errorMessage: refusal,
      })
      .onConflictDoNothing()
      .returning();

    if (!inserted) {
      await deps.storage.remove(`attachments/${emailId}`);
      const [existing] = await deps.db
        .select()
        .from(boxEmail)
        .where(
          and(
            eq(boxEmail.boxId, target.id),
            eq(boxEmail.direction, "inbound"),
            eq(boxEmail.messageId, messageId),
          ),
        )
        .limit(1);
      const duplicateOf =
        existing ??
        (
          await deps.db
            .select()
            .from(boxEmail)
            .where(
              and(eq(boxEmail.provider, message.provider), eq(boxEmail.providerMessageId, providerMessageId)),
            )
            .limit(1)
        )[0];
      if (duplicateOf) {
        // A replay of a message whose delivery was never queued (a crash between commit and enqueue) gets queued now.
        if (duplicateOf.status === "received") {
          await enqueueDelivery(deps, duplicateOf.id);
        }
        accepted.push({
          boxId: target.id,
          emailId: duplicateOf.id,
          duplicate: true,
          status: duplicateOf.status,
        });
      }
      continue;
    }
    if (inserted.status === "received") {
      await enqueueDelivery(deps, inserted.id);
    }
    accepted.push({ boxId: target.id, emailId: inserted.id, duplicate: false, status: inserted.status });
  }
  return { accepted, unrouted: false };
}

export async function enqueueDelivery(deps: Pick<ApiDeps, "queues" | "config">, emailId: string) {
  await deps.queues.enqueue(
    "deliverEmail",
    { emailId },
    {
      jobId: `deliver-${emailId}`,
      backoff: { type: "exponential", delay: deps.config.email.deliveryRetryBaseMs },
    },
  );
}
