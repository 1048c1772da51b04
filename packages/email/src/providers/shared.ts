import type { SendMailOptions } from "nodemailer";
import type { OutboundEmail, ThreadHeaders } from "../types";

/** The thread headers as a plain record, leaving out the ones that are not set. */
export function threadHeaderRecord(headers: ThreadHeaders): Record<string, string> {
  const record: Record<string, string> = { "Message-ID": headers["Message-ID"] };
  if (headers["In-Reply-To"]) {
    record["In-Reply-To"] = headers["In-Reply-To"];
  }
  if (headers.References) {
    record.References = headers.References;
  }
  return record;
}

/** The nodemailer message for an outbound email; the SMTP relay and the outbox build the same MIME. */
export function toNodemailerMessage(message: OutboundEmail): SendMailOptions {
  return {
    from: message.from,
    to: message.to,
    cc: message.cc && message.cc.length > 0 ? message.cc : undefined,
    replyTo: message.replyTo,
    subject: message.subject,
    html: message.html,
    text: message.text,
    messageId: message.headers["Message-ID"],
    inReplyTo: message.headers["In-Reply-To"],
    references: message.headers.References,
    attachments: message.attachments?.map((attachment) => ({
      filename: attachment.filename,
      content: attachment.content,
      contentType: attachment.contentType,
      cid: attachment.contentId,
    })),
  };
}
