import { box, boxEmail } from "@vps-claude/db";
import { EmailSendError, renderAgentEmail } from "@vps-claude/email";
import { PermanentJobError } from "@vps-claude/queue";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { type EmailJobAttempt, recordEmailAttempt } from "./record-email-attempt";

/**
 * The EmailSendWorker's body: renders the agent's markdown to sanitized HTML and text, sends it
 * from the box's address with its threading headers, and records `sent` with the provider's id.
 * Our email id is the idempotency key, so a retry after a lost response does not send twice.
 * A provider's refusal fails it at once; anything else is retried until the attempts run out.
 */
export function sendOutboundEmail(job: EmailJobAttempt) {
  return recordEmailAttempt({ ...job, gaveUp: "not sent" }, () => sendOnce(job));
}

async function sendOnce({ deps, emailId }: { deps: ApiDeps; emailId: string }) {
  const [row] = await deps.db
    .select({ email: boxEmail, box })
    .from(boxEmail)
    .innerJoin(box, eq(box.id, boxEmail.boxId))
    .where(eq(boxEmail.id, emailId))
    .limit(1);
  if (row?.email.direction !== "outbound") {
    return { outcome: "gone" as const };
  }
  const { email } = row;
  if (email.status === "sent") {
    return { outcome: "already-sent" as const };
  }
  const rendered = renderAgentEmail({ markdown: email.bodyMarkdown ?? email.textBody ?? "" });
  await deps.db
    .update(boxEmail)
    .set({
      htmlBody: rendered.html,
      textBody: rendered.text,
      attempts: email.attempts + 1,
      provider: deps.emailProvider.name,
    })
    .where(eq(boxEmail.id, emailId));
  try {
    const result = await deps.emailProvider.send({
      id: email.id,
      from: `${JSON.stringify(row.box.name)} <${email.fromAddress}>`,
      to: email.toAddresses,
      cc: email.ccAddresses.length > 0 ? email.ccAddresses : undefined,
      subject: email.subject,
      html: rendered.html,
      text: rendered.text,
      headers: {
        "Message-ID": email.messageId,
        ...(email.inReplyTo ? { "In-Reply-To": email.inReplyTo } : {}),
        ...(email.references.length > 0 ? { References: email.references.join(" ") } : {}),
      },
    });
    await deps.db
      .update(boxEmail)
      .set({
        status: "sent",
        sentAt: new Date(),
        providerMessageId: result.providerMessageId,
        errorMessage: result.rejectedRecipients?.length
          ? `the relay refused: ${result.rejectedRecipients.join(", ")}`
          : null,
      })
      .where(eq(boxEmail.id, emailId));
    return { outcome: "sent" as const, providerMessageId: result.providerMessageId };
  } catch (err) {
    if (err instanceof EmailSendError && !err.retryable) {
      throw new PermanentJobError(`${err.provider} refused the email: ${err.message}`);
    }
    throw err;
  }
}
