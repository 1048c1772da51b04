import { type ErrorResponse, Resend } from "resend";
import { EmailSendError } from "../errors";
import type { EmailProvider, OutboundEmail } from "../types";
import { threadHeaderRecord } from "./shared";

export interface ResendProviderOptions {
  apiKey: string;
  /** Defaults to Resend's API. Passed explicitly so the SDK never falls back to reading the environment. */
  baseUrl?: string;
}

const RESEND_API = "https://api.resend.com";

/**
 * Resend keeps a 409 `concurrent_idempotent_requests` for a key whose first request is still running:
 * retrying later returns that request's id. A quota that resets monthly will not clear within a job's
 * retry window.
 */
function isRetryable(error: ErrorResponse): boolean {
  if (error.statusCode === null) {
    return true;
  }
  if (error.name === "concurrent_idempotent_requests") {
    return true;
  }
  if (error.statusCode === 429) {
    return error.name !== "monthly_quota_exceeded";
  }
  return error.statusCode >= 500;
}

export function createResendProvider({ apiKey, baseUrl = RESEND_API }: ResendProviderOptions): EmailProvider {
  const resend = new Resend(apiKey, { baseUrl: baseUrl.replace(/\/+$/, "") });
  return {
    name: "resend",
    async send(message: OutboundEmail) {
      // The SDK reports HTTP and network failures in `error` instead of throwing.
      const { data, error } = await resend.emails.send(
        {
          from: message.from,
          to: message.to,
          cc: message.cc && message.cc.length > 0 ? message.cc : undefined,
          subject: message.subject,
          html: message.html,
          text: message.text,
          replyTo: message.replyTo,
          headers: threadHeaderRecord(message.headers),
          attachments: message.attachments?.map((attachment) => ({
            filename: attachment.filename,
            content: attachment.content,
            contentType: attachment.contentType,
            contentId: attachment.contentId,
          })),
        },
        { idempotencyKey: message.id },
      );
      if (error) {
        const status = error.statusCode === null ? "network error" : `${error.statusCode} ${error.name}`;
        throw new EmailSendError(`Resend did not accept email ${message.id} (${status}): ${error.message}`, {
          provider: "resend",
          retryable: isRetryable(error),
          statusCode: error.statusCode ?? undefined,
          code: error.name,
        });
      }
      if (!data?.id) {
        throw new EmailSendError(`Resend accepted email ${message.id} but returned no id`, {
          provider: "resend",
          retryable: true,
        });
      }
      return { providerMessageId: data.id };
    },
  };
}
