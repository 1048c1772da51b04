import type { boxEmail, EmailAuthentication } from "@vps-claude/db";

type EmailRow = typeof boxEmail.$inferSelect;

export interface EmailSummaryDto {
  id: string;
  direction: EmailRow["direction"];
  status: EmailRow["status"];
  threadId: string;
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  attempts: number;
  errorMessage: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  sentAt: Date | null;
  /** Inbound: the email's latest run (the one that answers it, or the owner's last retry); null before it has one. */
  runId: string | null;
}

export interface EmailDetailDto extends EmailSummaryDto {
  cc: string[];
  inReplyTo: string | null;
  references: string[];
  text: string | null;
  html: string | null;
  markdown: string | null;
  provider: string;
  providerMessageId: string | null;
  untrustedSender: boolean;
  /** Inbound: the SPF/DKIM/DMARC verdict; null for outbound mail and mail stored before it was checked. */
  authentication: EmailAuthentication | null;
  attachments: { filename: string; contentType: string; size: number }[];
}

export function toEmailSummary(row: EmailRow, runId: string | null): EmailSummaryDto {
  return {
    id: row.id,
    direction: row.direction,
    status: row.status,
    threadId: row.threadId,
    messageId: row.messageId,
    from: row.fromAddress,
    to: row.toAddresses,
    subject: row.subject,
    attempts: row.attempts,
    errorMessage: row.errorMessage,
    createdAt: row.createdAt,
    deliveredAt: row.deliveredAt,
    sentAt: row.sentAt,
    runId,
  };
}

export function toEmailDetail(row: EmailRow, runId: string | null): EmailDetailDto {
  return {
    ...toEmailSummary(row, runId),
    cc: row.ccAddresses,
    inReplyTo: row.inReplyTo,
    references: row.references,
    text: row.textBody,
    html: row.htmlBody,
    markdown: row.bodyMarkdown,
    provider: row.provider,
    providerMessageId: row.providerMessageId,
    untrustedSender: row.untrustedSender,
    authentication: row.authentication ?? null,
    attachments: row.attachments.map(({ filename, contentType, size }) => ({ filename, contentType, size })),
  };
}
