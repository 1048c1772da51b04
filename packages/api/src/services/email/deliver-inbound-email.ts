import { box, boxEmail } from "@vps-claude/db";
import { eq, sql } from "drizzle-orm";
import { getBoxToken } from "../box/authenticate-box";
import { type EmailJobAttempt, recordEmailAttempt } from "./record-email-attempt";

export class DeliveryDeferredError extends Error {
  override name = "DeliveryDeferredError";
}

/**
 * Hands one received email to its box: wakes the box, POSTs `/email/receive` with the box token and
 * the email id as idempotency key (box-agent stores each id once), and marks it `delivered`.
 * Anything that may heal (box asleep, deploying, down) throws so BullMQ retries with backoff; it is
 * marked `failed` when the retries run out.
 */
export function deliverInboundEmail(job: EmailJobAttempt) {
  return recordEmailAttempt({ ...job, gaveUp: "not delivered" }, () => deliverOnce(job));
}

async function deliverOnce({ deps, emailId, attempt }: EmailJobAttempt) {
  const [row] = await deps.db
    .select({ email: boxEmail, box })
    .from(boxEmail)
    .innerJoin(box, eq(box.id, boxEmail.boxId))
    .where(eq(boxEmail.id, emailId))
    .limit(1);
  if (!row) {
    return { outcome: "gone" as const };
  }
  const { email, box: target } = row;
  if (email.status === "delivered" || email.direction !== "inbound" || email.status === "rejected") {
    return { outcome: "nothing-to-do" as const };
  }
  await deps.db
    .update(boxEmail)
    .set({ status: "queued", attempts: sql`${boxEmail.attempts} + 1` })
    .where(eq(boxEmail.id, emailId));

  if (target.status !== "running") {
    throw new DeliveryDeferredError(`box is ${target.status}, not running; will retry`);
  }
  const token = await getBoxToken({ db: deps.db, keyring: deps.keyring, boxId: target.id });
  if (!token) {
    throw new DeliveryDeferredError("box has no token yet; will retry");
  }
  const response = await deps.boxAgent.call(
    target,
    "email.receive",
    {
      id: email.id,
      messageId: email.messageId,
      threadId: email.threadId,
      inReplyTo: email.inReplyTo,
      references: email.references,
      from: email.fromAddress,
      to: email.toAddresses,
      cc: email.ccAddresses,
      subject: email.subject,
      text: email.textBody,
      html: email.htmlBody,
      attachments: email.attachments.map(({ filename, contentType, size }) => ({
        filename,
        contentType,
        size,
      })),
      receivedAt: email.createdAt.toISOString(),
      untrustedSender: email.untrustedSender,
    },
    { idempotencyKey: email.id, timeoutMs: 20_000 },
  );
  if (!response.ok) {
    throw new DeliveryDeferredError(`box-agent answered HTTP ${response.status}: ${response.message}`);
  }
  await deps.db
    .update(boxEmail)
    .set({ status: "delivered", deliveredAt: new Date(), errorMessage: null })
    .where(eq(boxEmail.id, emailId));
  deps.logger.info({ emailId, boxId: target.id, attempt }, "email delivered to box");
  return { outcome: "delivered" as const };
}
