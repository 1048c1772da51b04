import { type box, boxEmail } from "@vps-claude/db";
import { buildReplyHeaders, generateMessageId, replySubject } from "@vps-claude/email";
import { newId } from "@vps-claude/shared";
import { and, count, eq, gt } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { notFound, ServiceError } from "../../errors";

type BoxRow = typeof box.$inferSelect;

export interface OutboundRequest {
  to: string[];
  cc: string[];
  subject?: string;
  /** Markdown; rendered to sanitized HTML and plain text when sent. */
  body: string;
  /** Reply in the thread of this email (one of the box's own, in or out). */
  replyToEmailId?: string;
}

export const boxAddress = (target: BoxRow, agentsDomain: string) => `${target.subdomain}@${agentsDomain}`;

/**
 * What `email_send` does: checks the box's hourly budget, threads a reply onto its parent
 * (In-Reply-To, References, "Re:" subject, same thread id), stores the email `queued` and queues
 * the send. The row exists before the job, so nothing the agent sends can vanish unrecorded.
 */
export async function queueOutboundEmail({
  deps,
  target,
  request,
}: {
  deps: ApiDeps;
  target: BoxRow;
  request: OutboundRequest;
}) {
  const hourAgo = new Date(Date.now() - 3_600_000);
  const [recent] = await deps.db
    .select({ n: count() })
    .from(boxEmail)
    .where(
      and(eq(boxEmail.boxId, target.id), eq(boxEmail.direction, "outbound"), gt(boxEmail.createdAt, hourAgo)),
    );
  if ((recent?.n ?? 0) >= deps.config.email.sendsPerHour) {
    throw new ServiceError(
      "TOO_MANY_REQUESTS",
      `this box has sent ${deps.config.email.sendsPerHour} emails in the last hour, its limit; try again later`,
    );
  }
  const size = Buffer.byteLength(request.body) + Buffer.byteLength(request.subject ?? "");
  if (size > deps.config.email.maxMessageBytes) {
    throw new ServiceError(
      "PAYLOAD_TOO_LARGE",
      `the email is ${size} bytes; the limit is ${deps.config.email.maxMessageBytes}`,
    );
  }

  let subject = request.subject?.trim() ?? "";
  let threading: { inReplyTo: string | null; references: string[]; threadId?: string } = {
    inReplyTo: null,
    references: [],
  };
  if (request.replyToEmailId) {
    const [parent] = await deps.db
      .select()
      .from(boxEmail)
      .where(and(eq(boxEmail.id, request.replyToEmailId), eq(boxEmail.boxId, target.id)))
      .limit(1);
    if (!parent) {
      throw notFound("email", request.replyToEmailId);
    }
    const headers = buildReplyHeaders({
      parentMessageId: parent.messageId,
      parentReferences: parent.references,
    });
    threading = {
      inReplyTo: headers["In-Reply-To"],
      references: headers.References.split(/\s+/).filter(Boolean),
      threadId: parent.threadId,
    };
    subject = replySubject(subject || parent.subject);
  }
  if (!subject) {
    throw new ServiceError("BAD_REQUEST", "subject: a new email needs a subject (replies may leave it out)");
  }

  const id = newId("email");
  const messageId = generateMessageId(deps.config.agentsDomain);
  const [row] = await deps.db
    .insert(boxEmail)
    .values({
      id,
      boxId: target.id,
      direction: "outbound",
      status: "queued",
      messageId,
      inReplyTo: threading.inReplyTo,
      references: threading.references,
      threadId: threading.threadId ?? messageId,
      fromAddress: boxAddress(target, deps.config.agentsDomain),
      toAddresses: request.to,
      ccAddresses: request.cc,
      subject,
      bodyMarkdown: request.body,
      provider: deps.emailProvider.name,
    })
    .returning();
  if (!row) {
    throw new Error("insert returned no row");
  }
  try {
    await deps.queues.enqueue("sendEmail", { emailId: id }, { jobId: `send-${id}` });
  } catch (err) {
    deps.logger.error({ err, emailId: id }, "could not queue send");
    await deps.db
      .update(boxEmail)
      .set({
        status: "failed",
        errorMessage: "the send could not be queued (job queue unavailable); retry it",
      })
      .where(eq(boxEmail.id, id));
    throw new ServiceError(
      "SERVICE_UNAVAILABLE",
      "the job queue is unavailable; the email was saved as failed and can be retried",
    );
  }
  return row;
}
