import { randomBytes } from "node:crypto";

/**
 * A small RFC 5322 / MIME writer for the fake Resend's raw-message download. Everything is base64
 * with UTF-8 charset: valid for any content and trivially parseable, which is all a fake needs.
 */

export interface RawMimeAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
  contentId?: string;
  inline?: boolean;
}

export interface RawMimeMessage {
  headers: [name: string, value: string][];
  text?: string;
  html?: string;
  attachments: RawMimeAttachment[];
}

function encodeWord(value: string): string {
  return /^[\x20-\x7e]*$/.test(value)
    ? value
    : `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
}

function base64Lines(content: Buffer): string {
  return (content.toString("base64").match(/.{1,76}/g) ?? []).join("\r\n");
}

function boundary(): string {
  return `----=_fake_${randomBytes(12).toString("hex")}`;
}

function textPart(contentType: string, value: string): string {
  return [
    `Content-Type: ${contentType}; charset=utf-8`,
    "Content-Transfer-Encoding: base64",
    "",
    base64Lines(Buffer.from(value, "utf8")),
  ].join("\r\n");
}

function attachmentPart(attachment: RawMimeAttachment): string {
  const name = encodeWord(attachment.filename).replace(/"/g, "");
  const lines = [
    `Content-Type: ${attachment.contentType}; name="${name}"`,
    "Content-Transfer-Encoding: base64",
    `Content-Disposition: ${attachment.inline ? "inline" : "attachment"}; filename="${name}"`,
  ];
  if (attachment.contentId) {
    lines.push(`Content-ID: <${attachment.contentId.replace(/^<|>$/g, "")}>`);
  }
  lines.push("", base64Lines(attachment.content));
  return lines.join("\r\n");
}

function multipart(subtype: string, parts: string[]): string {
  const b = boundary();
  return [
    `Content-Type: multipart/${subtype}; boundary="${b}"`,
    "",
    ...parts.map((part) => `--${b}\r\n${part}`),
    `--${b}--`,
    "",
  ].join("\r\n");
}

export function buildRawMime(message: RawMimeMessage): Buffer {
  const bodies: string[] = [];
  if (message.text !== undefined) {
    bodies.push(textPart("text/plain", message.text));
  }
  if (message.html !== undefined) {
    bodies.push(textPart("text/html", message.html));
  }
  let body = bodies.length === 1 ? (bodies[0] ?? "") : multipart("alternative", bodies);
  if (bodies.length === 0) {
    body = textPart("text/plain", "");
  }
  if (message.attachments.length > 0) {
    body = multipart("mixed", [body, ...message.attachments.map(attachmentPart)]);
  }
  // Only the subject is encoded: an encoded word around an address would hide the address, and
  // parsers accept raw UTF-8 elsewhere (RFC 6532).
  const headerLines = message.headers.map(
    ([name, value]) => `${name}: ${name.toLowerCase() === "subject" ? encodeWord(value) : value}`,
  );
  return Buffer.from([...headerLines, "MIME-Version: 1.0", body].join("\r\n"), "utf8");
}
