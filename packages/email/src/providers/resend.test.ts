import { type FakeResend, startFakeResend } from "@vps-claude/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmailSendError } from "../errors";
import type { OutboundEmail } from "../types";
import { createResendProvider } from "./resend";

let fake: FakeResend;

beforeEach(async () => {
  fake = await startFakeResend();
});

afterEach(async () => {
  await fake.close();
});

const email: OutboundEmail = {
  id: "email_01jabc",
  from: "My Box <mybox@agents.example.com>",
  to: ["alice@example.org"],
  cc: ["bob@example.org"],
  subject: "Re: Weekly report",
  html: "<p>Done.</p>",
  text: "Done.\n",
  replyTo: "mybox@agents.example.com",
  headers: {
    "Message-ID": "<out1@agents.example.com>",
    "In-Reply-To": "<in1@example.org>",
    References: "<in0@example.org> <in1@example.org>",
  },
  attachments: [{ filename: "r.csv", content: Buffer.from("a,b\n"), contentType: "text/csv" }],
};

async function sendError(promise: Promise<unknown>): Promise<EmailSendError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(EmailSendError);
  return error as EmailSendError;
}

describe("Resend provider", () => {
  it("sends with our id as the idempotency key and the thread headers", async () => {
    const provider = createResendProvider({ apiKey: fake.apiKey, baseUrl: fake.url });
    const { providerMessageId } = await provider.send(email);
    const [sent] = fake.sentEmails;
    expect(sent?.id).toBe(providerMessageId);
    expect(sent?.idempotencyKey).toBe("email_01jabc");
    expect(sent).toMatchObject({
      from: email.from,
      to: ["alice@example.org"],
      cc: ["bob@example.org"],
      replyTo: ["mybox@agents.example.com"],
      subject: "Re: Weekly report",
      html: "<p>Done.</p>",
      text: "Done.\n",
      headers: email.headers,
    });
    expect(sent?.attachments[0]?.content.toString()).toBe("a,b\n");
  });

  it("returns the same provider id when a retried job sends the same email again", async () => {
    const provider = createResendProvider({ apiKey: fake.apiKey, baseUrl: fake.url });
    const first = await provider.send(email);
    const second = await provider.send(email);
    expect(second.providerMessageId).toBe(first.providerMessageId);
    expect(fake.sentEmails).toHaveLength(1);
  });

  it("classifies failures as retryable or not", async () => {
    const provider = createResendProvider({ apiKey: fake.apiKey, baseUrl: fake.url });

    fake.failNextSends({ status: 422, name: "validation_error", message: "The `to` field is invalid." });
    const validation = await sendError(provider.send(email));
    expect(validation).toMatchObject({
      retryable: false,
      statusCode: 422,
      code: "validation_error",
      provider: "resend",
    });
    expect(validation.message).toContain("The `to` field is invalid.");

    fake.failNextSends({ status: 429 });
    expect(await sendError(provider.send(email))).toMatchObject({ retryable: true, statusCode: 429 });

    fake.failNextSends({ status: 500 });
    expect(await sendError(provider.send(email))).toMatchObject({ retryable: true, statusCode: 500 });

    fake.failNextSends({ status: 409, name: "concurrent_idempotent_requests" });
    expect(await sendError(provider.send(email))).toMatchObject({ retryable: true });

    fake.failNextSends({ drop: true });
    expect(await sendError(provider.send(email))).toMatchObject({ retryable: true, statusCode: undefined });

    expect(await sendError(provider.send({ ...email, from: "not an address" }))).toMatchObject({
      retryable: false,
      code: "invalid_from_address",
    });

    // The same id with other content is a bug on our side, never fixed by retrying.
    await provider.send(email);
    expect(await sendError(provider.send({ ...email, subject: "changed" }))).toMatchObject({
      retryable: false,
      statusCode: 409,
      code: "invalid_idempotent_request",
    });
  });

  it("rejects a wrong API key without retrying", async () => {
    const provider = createResendProvider({ apiKey: "re_wrong", baseUrl: fake.url });
    expect(await sendError(provider.send(email))).toMatchObject({ retryable: false, statusCode: 403 });
  });

  it("treats an unreachable API as retryable", async () => {
    const provider = createResendProvider({ apiKey: fake.apiKey, baseUrl: fake.url });
    await fake.close();
    expect(await sendError(provider.send(email))).toMatchObject({ retryable: true });
    fake = await startFakeResend();
  });
});
