import { parseReferences, verdictFromAuthenticationResults } from "@vps-claude/email";
import { Resend } from "resend";
import type { InboundMessage } from "./receive-inbound-email";

export class InboundFetchError extends Error {
  override name = "InboundFetchError";
}

/** The email is larger than we accept: retrying cannot help, so it is recorded and acknowledged. */
export class InboundTooLargeError extends Error {
  override name = "InboundTooLargeError";
}

function header(headers: Record<string, string> | null, name: string): string | undefined {
  if (!headers) {
    return undefined;
  }
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

const clients = new Map<string, Resend>();

/** One client per key and base URL, built once rather than per webhook. */
function resendClient(apiKey: string, baseUrl: string | undefined): Resend {
  const key = `${baseUrl ?? ""}\u0000${apiKey}`;
  let client = clients.get(key);
  if (!client) {
    client = new Resend(apiKey, baseUrl ? { baseUrl } : undefined);
    clients.set(key, client);
  }
  return client;
}

/**
 * Resend's webhook carries metadata only: the body, headers and attachments come from its
 * receiving API. The SDK reports HTTP failures as `{ error }` rather than throwing, so each call is
 * checked; a failure here makes the webhook answer 5xx and Resend retries later.
 */
export async function fetchResendInbound({
  apiKey,
  baseUrl,
  emailId,
  maxBytes,
}: {
  apiKey: string;
  baseUrl?: string;
  emailId: string;
  maxBytes: number;
}): Promise<InboundMessage> {
  const resend = resendClient(apiKey, baseUrl);
  const { data: email, error } = await resend.emails.receiving.get(emailId, { html_format: "cid" });
  if (error || !email) {
    throw new InboundFetchError(
      `Resend receiving API refused email ${emailId}: ${error?.message ?? "no data"}`,
    );
  }
  const bodyBytes = Buffer.byteLength(email.text ?? "") + Buffer.byteLength(email.html ?? "");
  if (bodyBytes > maxBytes) {
    throw new InboundTooLargeError(`email ${emailId} is larger than the ${maxBytes}-byte limit`);
  }
  const attachments: InboundMessage["attachments"] = [];
  if (email.attachments.length > 0) {
    const { data: list, error: listError } = await resend.emails.receiving.attachments.list({ emailId });
    if (listError || !list) {
      throw new InboundFetchError(
        `Resend attachments API refused email ${emailId}: ${listError?.message ?? "no data"}`,
      );
    }
    let total = bodyBytes;
    for (const attachment of list.data) {
      total += attachment.size;
      if (total > maxBytes) {
        throw new InboundTooLargeError(`email ${emailId} is larger than the ${maxBytes}-byte limit`);
      }
      const response = await fetch(attachment.download_url);
      if (!response.ok) {
        throw new InboundFetchError(
          `attachment ${attachment.id} download failed with HTTP ${response.status}`,
        );
      }
      const meta = email.attachments.find((entry) => entry.id === attachment.id);
      attachments.push({
        filename: attachment.filename ?? `attachment-${attachment.id}`,
        contentType: attachment.content_type,
        content: Buffer.from(await response.arrayBuffer()),
        contentId: meta?.content_id ?? null,
      });
    }
  }
  return {
    provider: "resend",
    providerMessageId: email.id,
    messageId: email.message_id,
    inReplyTo: header(email.headers, "in-reply-to") ?? null,
    references: parseReferences(header(email.headers, "references")),
    from: email.from,
    to: email.to,
    cc: email.cc ?? [],
    recipients: email.received_for?.length ? email.received_for : undefined,
    subject: email.subject ?? "",
    text: email.text,
    html: email.html,
    attachments,
    // Resend checked SPF/DKIM/DMARC on receipt; its Authentication-Results header is the verdict.
    authentication: verdictFromAuthenticationResults({
      header: header(email.headers, "authentication-results"),
      from: email.from,
    }),
  };
}
