import type { InboundEmail } from "@vps-claude/contract/box-agent";

let counter = 0;

/** An email as the platform's delivery worker sends it to `/email/receive`; each call gets a new id. */
export function inboundEmail(overrides: Partial<InboundEmail> = {}): InboundEmail {
  counter++;
  const id = overrides.id ?? `email_test${counter}${Date.now().toString(36)}`;
  const messageId = overrides.messageId ?? `<${id}@mail.example.com>`;
  return {
    id,
    messageId,
    threadId: messageId,
    inReplyTo: null,
    references: [],
    from: "alice@example.com",
    to: ["box@agents.localhost"],
    cc: [],
    subject: "Hello box",
    text: "Hi! How are you?",
    html: null,
    attachments: [],
    receivedAt: new Date().toISOString(),
    untrustedSender: false,
    ...overrides,
  };
}
