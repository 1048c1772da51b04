import { Resend } from "resend";
import { Webhook } from "svix";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeResend, startFakeResend } from "./resend";
import { generateWebhookSecret, signedWebhook } from "./svix";

let fake: FakeResend;
let resend: Resend;

beforeEach(async () => {
  fake = await startFakeResend();
  resend = new Resend(fake.apiKey, { baseUrl: fake.url });
});

afterEach(async () => {
  await fake.close();
});

const message = {
  from: "Box <box@agents.example.com>",
  to: ["alice@example.org"],
  subject: "Report",
  html: "<p>Hi</p>",
  text: "Hi",
  headers: { "In-Reply-To": "<parent@example.org>", References: "<root@example.org> <parent@example.org>" },
  attachments: [{ filename: "a.txt", content: Buffer.from("attached bytes"), contentType: "text/plain" }],
};

describe("fake Resend: sending", () => {
  it("accepts a send from the SDK and records payload, headers and attachments", async () => {
    const { data, error } = await resend.emails.send(message, { idempotencyKey: "email_1" });
    expect(error).toBeNull();
    expect(data?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.sentEmails).toHaveLength(1);
    const sent = fake.sentEmails[0];
    expect(sent?.id).toBe(data?.id);
    expect(sent?.idempotencyKey).toBe("email_1");
    expect(sent?.requestHeaders.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(sent?.to).toEqual(["alice@example.org"]);
    expect(sent?.headers["In-Reply-To"]).toBe("<parent@example.org>");
    expect(sent?.attachments[0]?.content.toString()).toBe("attached bytes");
    expect(sent?.attachments[0]?.contentType).toBe("text/plain");
    expect(sent?.payload.subject).toBe("Report");

    const fetched = await resend.emails.get(data?.id ?? "");
    expect(fetched.error).toBeNull();
    expect(fetched.data?.subject).toBe("Report");
  });

  it("replays the same id for the same idempotency key and payload, 409 for another payload", async () => {
    const first = await resend.emails.send(message, { idempotencyKey: "email_2" });
    const again = await resend.emails.send(message, { idempotencyKey: "email_2" });
    expect(again.data?.id).toBe(first.data?.id);
    expect(fake.sentEmails).toHaveLength(1);

    const other = await resend.emails.send({ ...message, subject: "Other" }, { idempotencyKey: "email_2" });
    expect(other.data).toBeNull();
    expect(other.error).toEqual({
      statusCode: 409,
      name: "invalid_idempotent_request",
      message: expect.stringContaining("Same idempotency key"),
    });
  });

  it("rejects idempotency keys longer than 256 characters", async () => {
    const { error } = await resend.emails.send(message, { idempotencyKey: "k".repeat(257) });
    expect(error?.name).toBe("invalid_idempotency_key");
    expect(error?.statusCode).toBe(400);
  });

  it("validates required fields like Resend", async () => {
    const noTo = await resend.emails.send({ ...message, to: [] });
    expect(noTo.error).toMatchObject({ statusCode: 422, name: "missing_required_field" });
    const badFrom = await resend.emails.send({ ...message, from: "not an address" });
    expect(badFrom.error).toMatchObject({ statusCode: 422, name: "invalid_from_address" });
    const noSubject = await resend.emails.send({ ...message, subject: "" });
    expect(noSubject.error?.message).toContain("subject");
    expect(fake.sentEmails).toHaveLength(0);
  });

  it("checks the API key", async () => {
    const wrong = new Resend("re_wrong", { baseUrl: fake.url });
    const { error } = await wrong.emails.send(message);
    expect(error).toMatchObject({ statusCode: 403, name: "invalid_api_key" });
  });

  it("fails the next sends as instructed, then recovers", async () => {
    fake.failNextSends({ status: 500 }, 2);
    fake.failNextSends({ status: 422, name: "validation_error", message: "domain not verified" });
    expect((await resend.emails.send(message)).error).toMatchObject({
      statusCode: 500,
      name: "internal_server_error",
    });
    expect((await resend.emails.send(message)).error?.statusCode).toBe(500);
    expect((await resend.emails.send(message)).error).toEqual({
      statusCode: 422,
      name: "validation_error",
      message: "domain not verified",
    });
    expect((await resend.emails.send(message)).error).toBeNull();
    expect(fake.sentEmails).toHaveLength(1);
    expect(fake.requests.filter((request) => request.path === "/emails")).toHaveLength(4);
  });

  it("can drop the connection, which the SDK reports with a null status", async () => {
    fake.failNextSends({ drop: true });
    const { error } = await resend.emails.send(message);
    expect(error).toMatchObject({ name: "application_error", statusCode: null });
  });
});

describe("fake Resend: receiving", () => {
  it("serves a registered email, its attachments and downloads through the SDK", async () => {
    const emailId = fake.addInboundEmail({
      from: "Alice <alice@example.org>",
      to: "box@agents.example.com",
      subject: "Photo",
      text: "See attached",
      html: '<p>See <img src="cid:logo1"></p>',
      headers: { "In-Reply-To": "<prev@agents.example.com>" },
      messageId: "<m1@example.org>",
      attachments: [
        { filename: "notes.txt", contentType: "text/plain", content: "hello" },
        {
          filename: "logo.png",
          contentType: "image/png",
          content: Buffer.from([1, 2, 3]),
          contentId: "logo1",
        },
      ],
    });

    const { data, error } = await resend.emails.receiving.get(emailId);
    expect(error).toBeNull();
    expect(data?.message_id).toBe("<m1@example.org>");
    expect(data?.headers?.["in-reply-to"]).toBe("<prev@agents.example.com>");
    expect(data?.html).toContain("data:image/png;base64,AQID");
    expect(data?.attachments).toHaveLength(2);

    const cid = await resend.emails.receiving.get(emailId, { html_format: "cid" });
    expect(cid.data?.html).toContain("cid:logo1");

    const list = await resend.emails.receiving.attachments.list({ emailId });
    expect(list.error).toBeNull();
    const notes = list.data?.data.find((attachment) => attachment.filename === "notes.txt");
    expect(notes?.size).toBe(5);
    // Download URLs are pre-signed: no Authorization header.
    const download = await fetch(notes?.download_url ?? "");
    expect(await download.text()).toBe("hello");

    const raw = await fetch(data?.raw?.download_url ?? "");
    const rawText = await raw.text();
    expect(rawText).toContain("Message-ID: <m1@example.org>");
    expect(rawText).toContain('filename="notes.txt"');

    const missing = await resend.emails.receiving.get("00000000-0000-0000-0000-000000000000");
    expect(missing.error).toMatchObject({ statusCode: 404, name: "not_found" });
  });

  it("signs the email.received webhook so svix and resend.webhooks.verify accept it", async () => {
    const emailId = fake.addInboundEmail({
      from: "a@example.org",
      to: ["box@agents.example.com"],
      subject: "Hi",
    });
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const { body, headers } = fake.signedEmailReceivedWebhook(emailId, { secret, id: "msg_fixed" });
    expect(headers["svix-id"]).toBe("msg_fixed");

    const verified = new Webhook(secret).verify(body, headers) as {
      type: string;
      data: { email_id: string };
    };
    expect(verified.type).toBe("email.received");
    expect(verified.data.email_id).toBe(emailId);

    const viaResend = resend.webhooks.verify({
      payload: body,
      headers: {
        id: headers["svix-id"],
        timestamp: headers["svix-timestamp"],
        signature: headers["svix-signature"],
      },
      webhookSecret: secret,
    });
    expect(viaResend).toMatchObject({ type: "email.received" });

    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body.replace("Hi", "Ho"), headers)).toThrow();
  });

  it("signs with an old timestamp when asked, which verification rejects", () => {
    const secret = generateWebhookSecret();
    const old = signedWebhook({
      secret,
      payload: { type: "x" },
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(() => new Webhook(secret).verify(old.body, old.headers)).toThrow(/timestamp/i);
  });
});
