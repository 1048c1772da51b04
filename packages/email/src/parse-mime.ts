import { type AddressObject, simpleParser } from "mailparser";
import { type EmailAddress, normalizeMessageId, parseReferences } from "./threading";

export interface ParsedAttachment {
  filename: string | undefined;
  contentType: string;
  size: number;
  content: Buffer;
  /** Without angle brackets, to match `cid:` links in the HTML. */
  contentId: string | undefined;
  inline: boolean;
}

export interface ParsedEmail {
  messageId: string | undefined;
  inReplyTo: string | undefined;
  /** Message ids of the References header, oldest first. */
  references: string[];
  from: EmailAddress | undefined;
  to: EmailAddress[];
  cc: EmailAddress[];
  replyTo: EmailAddress[];
  subject: string;
  date: Date | undefined;
  /** Plain text; converted from the HTML when the message has no text part. */
  text: string;
  /** HTML as sent (unsanitized, `cid:` links kept); undefined when the message has none. */
  html: string | undefined;
  /**
   * Header values by lower-cased name: unfolded but not decoded, first occurrence wins (for
   * Received / Authentication-Results that is the one our own MX added).
   */
  headers: Record<string, string>;
  attachments: ParsedAttachment[];
}

function addresses(value: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const flat: EmailAddress[] = [];
  const visit = (entries: AddressObject["value"]) => {
    for (const entry of entries) {
      if (entry.group) {
        visit(entry.group);
      } else if (entry.address) {
        flat.push({ name: entry.name, address: entry.address });
      }
    }
  };
  for (const object of objects) {
    visit(object.value);
  }
  return flat;
}

/** Parses a raw RFC 5322 message (as the SMTP listener receives it) into what the inbound path needs. */
export async function parseMime(raw: Buffer): Promise<ParsedEmail> {
  const mail = await simpleParser(raw, { keepCidLinks: true, skipTextToHtml: true });
  const headers: Record<string, string> = {};
  for (const { key, line } of mail.headerLines) {
    if (!(key in headers)) {
      const colon = line.indexOf(":");
      headers[key] = line
        .slice(colon + 1)
        .replace(/\r?\n[ \t]+/g, " ")
        .trim();
    }
  }
  return {
    messageId: normalizeMessageId(mail.messageId),
    inReplyTo: parseReferences(mail.inReplyTo)[0],
    references: parseReferences(mail.references),
    from: addresses(mail.from)[0],
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    replyTo: addresses(mail.replyTo),
    subject: mail.subject ?? "",
    date: mail.date,
    text: mail.text ?? "",
    html: typeof mail.html === "string" ? mail.html : undefined,
    headers,
    attachments: mail.attachments.map((attachment) => ({
      filename: attachment.filename,
      contentType: attachment.contentType,
      size: attachment.size,
      content: attachment.content,
      contentId: attachment.cid,
      inline: attachment.contentDisposition === "inline" || attachment.related === true,
    })),
  };
}
