/** Threading headers every outbound email carries; values keep their angle brackets. */
export interface ThreadHeaders {
  "Message-ID": string;
  "In-Reply-To"?: string;
  /** Space-separated message ids, oldest first. */
  References?: string;
}

export interface EmailAttachment {
  filename: string;
  content: Buffer;
  contentType?: string;
  /** Makes the attachment inline, referenced from the HTML as `cid:<contentId>`. */
  contentId?: string;
}

export interface OutboundEmail {
  /** Our email id. Resend uses it as the idempotency key, the outbox as the file name. */
  id: string;
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  html: string;
  text: string;
  replyTo?: string;
  headers: ThreadHeaders;
  attachments?: EmailAttachment[];
}

export interface SendResult {
  /** How the delivering system knows the message (Resend email id, relay queue id, outbox entry). */
  providerMessageId: string;
  /** Recipients an SMTP relay refused while it accepted the others; the message went to the rest. */
  rejectedRecipients?: string[];
}

export type EmailProviderName = "resend" | "smtp" | "outbox";

export interface EmailProvider {
  readonly name: EmailProviderName;
  /** Resolves once the provider accepted the message; throws `EmailSendError` otherwise. */
  send(message: OutboundEmail): Promise<SendResult>;
  /** Drops what the provider keeps on this machine for these emails (the local outbox's files); a no-op elsewhere. */
  forget?(emailIds: string[]): Promise<void>;
}
