import nodemailer from "nodemailer";
import { EmailSendError } from "../errors";
import type { EmailProvider, OutboundEmail } from "../types";
import { toNodemailerMessage } from "./shared";

export interface SmtpProviderOptions {
  /** `smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://…` (TLS from the start). */
  url: string;
}

/** Transport-level failures worth retrying: the relay may be back in a minute. */
const TRANSIENT_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ECONNRESET",
  "ECONNREFUSED",
]);

interface NodemailerFailure {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
}

/**
 * RFC 5321: 4xx replies are transient ("try again later"), 5xx permanent. Without a reply the
 * connection itself failed, which is transient unless it is our configuration (auth, TLS).
 */
function toSendError(error: unknown, message: OutboundEmail): EmailSendError {
  const failure: NodemailerFailure = typeof error === "object" && error !== null ? error : {};
  const { code, responseCode } = failure;
  const retryable =
    responseCode !== undefined ? responseCode >= 400 && responseCode < 500 : TRANSIENT_CODES.has(code ?? "");
  const reason = failure.response ?? failure.message ?? String(error);
  return new EmailSendError(`SMTP relay did not accept email ${message.id}: ${reason}`, {
    provider: "smtp",
    retryable,
    statusCode: responseCode,
    code,
    cause: error,
  });
}

export function createSmtpProvider({ url }: SmtpProviderOptions): EmailProvider {
  const transport = nodemailer.createTransport(url);
  return {
    name: "smtp",
    async send(message: OutboundEmail) {
      let info: { messageId: string; response?: string; rejected?: string[] };
      try {
        info = await transport.sendMail(toNodemailerMessage(message));
      } catch (error) {
        throw toSendError(error, message);
      }
      // Relays answer "250 2.0.0 Ok: queued as 4Bf1x…"; that queue id is what their logs know the
      // message by. Relays that do not say fall back to the Message-ID we set.
      const queueId = /queued as\s+([^\s]+)/i.exec(info.response ?? "")?.[1];
      const rejected = info.rejected ?? [];
      return {
        providerMessageId: queueId ?? info.messageId,
        ...(rejected.length > 0 ? { rejectedRecipients: rejected } : {}),
      };
    },
  };
}
