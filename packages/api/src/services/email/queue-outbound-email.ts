import { type box, boxEmail } from "@vps-claude/db";
import { buildReplyHeaders, generateMessageId, replySubject } from "@vps-claude/email";
import { newId } from "@vps-claude/shared";
import { and, eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { notFound, ServiceError } from "../../errors";
import { enqueueOrFail } from "../queue/enqueue-or-fail";
import { checkOutboundRecipientLimit } from "./outbound-recipient-limit";

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
 * What `email_send` does: checks the box's hourly recipient budget, threads a reply onto its parent
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
  const row = await deps.db.transaction(async (tx) => {
    await checkOutboundRecipientLimit({
      tx,
      boxId: target.id,
      recipients: request.to.length + request.cc.length,
      limit: deps.config.email.recipientsPerHour,
    });
    const [inserted] = await tx
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
    return inserted;
  });
  if (!row) {
    throw new Error("insert returned no row");
  }
  await enqueueOrFail({
    deps,
    job: "sendEmail",
    data: { emailId: id },
    opts: { jobId: `send-${id}` },
    whatToDo: "the email was saved as failed and can be retried",
    markFailed: () =>
      deps.db
        .update(boxEmail)
        .set({
          status: "failed",
          errorMessage: "the send could not be queued (job queue unavailable); retry it",
        })
        .where(eq(boxEmail.id, id)),
  });
  return row;
}
