import { box, boxEmail, boxRun } from "@vps-claude/db";
import { and, eq, inArray, sql } from "drizzle-orm";
import { type EmailJobAttempt, recordEmailAttempt } from "./record-email-attempt";
import { startEmailRun } from "./start-email-run";

export class DeliveryDeferredError extends Error {
  override name = "DeliveryDeferredError";
}

type EmailRow = typeof boxEmail.$inferSelect;
type BoxRow = typeof box.$inferSelect;

/**
 * Hands one received email to its box and starts the run that answers it: wakes the box, POSTs
 * `/email/receive` with the box token and the email id as idempotency key (box-agent stores each id
 * once), marks it `delivered`, then starts its run. A retried job (the worker died between the steps)
 * repeats both: box-agent answers the receive as a duplicate and `startRun` returns the email's run,
 * so an email never gets a second first run. Anything that may heal (box asleep, deploying, down)
 * throws so BullMQ retries with backoff; it is marked `failed` when the retries run out.
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
  if (!(await needsDelivery(deps.db, email))) {
    return { outcome: "nothing-to-do" as const };
  }
  // Only an undelivered email shows `queued`: a delivered one is handed over again as it is, and
  // its run (which may end meanwhile) alone moves it on.
  await deps.db
    .update(boxEmail)
    .set({
      status: sql`CASE WHEN ${boxEmail.status} IN ('received', 'failed') THEN 'queued' ELSE ${boxEmail.status} END`,
      attempts: sql`${boxEmail.attempts} + 1`,
    })
    .where(eq(boxEmail.id, emailId));

  await receiveInBox(deps, target, email);
  // Only from before delivery: the run (started below, or by an earlier attempt) may have ended it already.
  await deps.db
    .update(boxEmail)
    .set({ status: "delivered", deliveredAt: new Date(), errorMessage: null })
    .where(and(eq(boxEmail.id, emailId), inArray(boxEmail.status, ["received", "queued"])));
  const run = await startEmailRun({ deps, email, target });
  deps.logger.info(
    { emailId, boxId: target.id, attempt, runId: run.runId, newRun: run.created },
    "email delivered to box; its run is started",
  );
  return { outcome: "delivered" as const, runId: run.runId };
}

/**
 * Whether this job still has work: an inbound email not yet delivered, or delivered (its run may
 * not be started yet; starting it again is harmless). A `failed` email that has a run failed in that
 * run (the owner's retry starts another one), not in delivery.
 */
async function needsDelivery(db: EmailJobAttempt["deps"]["db"], email: EmailRow): Promise<boolean> {
  if (email.direction !== "inbound") {
    return false;
  }
  if (email.status === "received" || email.status === "queued" || email.status === "delivered") {
    return true;
  }
  if (email.status !== "failed") {
    return false;
  }
  const [run] = await db.select({ id: boxRun.id }).from(boxRun).where(eq(boxRun.emailId, email.id)).limit(1);
  return !run;
}

async function receiveInBox(deps: EmailJobAttempt["deps"], target: BoxRow, email: EmailRow) {
  if (target.status !== "running") {
    throw new DeliveryDeferredError(`box is ${target.status}, not running; will retry`);
  }
  // The client reads the box's token for the call and throws (retried) when it has none yet.
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
}
