import { boxEmail, unroutedEmail } from "@vps-claude/db";
import { type FakeResend, generateWebhookSecret, signedWebhook, startFakeResend } from "@vps-claude/testing";
import { eq } from "drizzle-orm";
import nodemailer from "nodemailer";
import { Webhook } from "svix";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer } from "./harness";

let resend: FakeResend;
let server: TestServer;
let client: TestClient;
let boxId: string;
let address: string;
const secret = generateWebhookSecret();

beforeAll(async () => {
  resend = await startFakeResend();
  server = await startTestServer({
    workers: false,
    smtp: true,
    env: {
      RESEND_API_KEY: resend.apiKey,
      RESEND_BASE_URL: resend.url,
      RESEND_WEBHOOK_SECRET: secret,
      EMAIL_MAX_BYTES: String(64 * 1024),
    },
  });
  ({ client } = await signedInClient(server));
  const created = await client.post("/rpc/box", { name: "Inbox" });
  boxId = String(created.body.id);
  address = String(created.body.email);
});
afterAll(async () => {
  await server?.close();
  await resend?.close();
});

async function postWebhook(body: string, headers: { [name: string]: string } | object) {
  const res = await fetch(`${server.url}/webhooks/inbound-email`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(headers as Record<string, string>) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const emailsOf = () => server.deps.db.select().from(boxEmail).where(eq(boxEmail.boxId, boxId));

describe("Resend inbound webhook", () => {
  it("stores a signed email with its content and attachments, then queues delivery", async () => {
    const id = resend.addInboundEmail({
      from: "Alice <alice@example.com>",
      to: [address],
      subject: "Quarterly numbers",
      text: "See attached.",
      html: "<p>See attached.</p>",
      messageId: "<q1@example.com>",
      attachments: [{ filename: "numbers.csv", contentType: "text/csv", content: Buffer.from("a,b\n1,2\n") }],
    });
    const hook = resend.signedEmailReceivedWebhook(id, { secret });
    const res = await postWebhook(hook.body, hook.headers);
    expect(res.status, JSON.stringify(res.body)).toBe(200);

    const [email] = (await emailsOf()).filter((row) => row.providerMessageId === id);
    expect(email).toMatchObject({
      direction: "inbound",
      status: "received",
      messageId: "<q1@example.com>",
      threadId: "<q1@example.com>",
      subject: "Quarterly numbers",
      textBody: "See attached.",
      provider: "resend",
    });
    expect(email?.attachments).toEqual([
      expect.objectContaining({ filename: "numbers.csv", contentType: "text/csv", size: 8 }),
    ]);
    const stored = await server.deps.storage.get(String(email?.attachments[0]?.storageKey));
    expect(stored?.toString()).toBe("a,b\n1,2\n");
    const jobs = await server.deps.queues.get("deliverEmail").getJobs(["waiting", "delayed", "active"]);
    expect(jobs.map((job) => job.data.emailId)).toContain(email?.id);

    // The owner sees it.
    const list = await client.get(`/rpc/box/${boxId}/emails`);
    expect((list.body as unknown as { id: string }[]).map((e) => e.id)).toContain(email?.id);
  });

  it("stores and delivers a replayed webhook once", async () => {
    const id = resend.addInboundEmail({
      from: "bob@example.com",
      to: [address],
      subject: "twice",
      text: "hi",
      messageId: "<twice@example.com>",
    });
    const hook = resend.signedEmailReceivedWebhook(id, { secret });
    expect((await postWebhook(hook.body, hook.headers)).status).toBe(200);
    const again = await postWebhook(hook.body, hook.headers);
    expect(again.status).toBe(200);
    expect((again.body.emails as { duplicate: boolean }[])[0]?.duplicate).toBe(true);
    // A new webhook delivery (new svix id) of the same email is a duplicate too.
    const fresh = resend.signedEmailReceivedWebhook(id, { secret, id: "msg_another" });
    expect((await postWebhook(fresh.body, fresh.headers)).status).toBe(200);
    expect((await emailsOf()).filter((row) => row.messageId === "<twice@example.com>")).toHaveLength(1);
  });

  it("rejects a bad signature, a stale timestamp and a foreign secret with 401, storing nothing", async () => {
    const before = (await emailsOf()).length;
    const id = resend.addInboundEmail({
      from: "eve@example.com",
      to: [address],
      subject: "forged",
      text: "x",
    });
    const good = resend.signedEmailReceivedWebhook(id, { secret });
    const tampered = good.body.replace("email.received", "email.received ");
    expect((await postWebhook(tampered, good.headers)).status).toBe(401);
    const stale = resend.signedEmailReceivedWebhook(id, {
      secret,
      timestamp: new Date(Date.now() - 10 * 60_000),
    });
    const staleRes = await postWebhook(stale.body, stale.headers);
    expect(staleRes.status).toBe(401);
    expect(String(staleRes.body.message)).toContain("timestamp");
    const foreign = resend.signedEmailReceivedWebhook(id, { secret: generateWebhookSecret() });
    expect((await postWebhook(foreign.body, foreign.headers)).status).toBe(401);
    expect((await postWebhook(good.body, {})).status).toBe(401);
    expect((await emailsOf()).length).toBe(before);
  });

  it("answers a correctly signed but malformed body with 400", async () => {
    const body = "{not json";
    const timestamp = new Date();
    const signature = new Webhook(secret).sign("msg_malformed", timestamp, body);
    const res = await postWebhook(body, {
      "svix-id": "msg_malformed",
      "svix-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "svix-signature": signature,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.message).toBe("webhook body is not valid JSON");
  });

  it("records mail for an unknown recipient and answers 2xx so it is not retried forever", async () => {
    const id = resend.addInboundEmail({
      from: "x@example.com",
      to: ["nobody-zzzz@agents.localhost"],
      subject: "lost",
      text: "?",
    });
    const hook = resend.signedEmailReceivedWebhook(id, { secret });
    const res = await postWebhook(hook.body, hook.headers);
    expect(res.status).toBe(200);
    expect(res.body.unrouted).toBe(true);
    const [row] = await server.deps.db
      .select()
      .from(unroutedEmail)
      .where(eq(unroutedEmail.providerMessageId, id));
    expect(row?.reason).toContain("nobody-zzzz@agents.localhost");
  });

  it("routes name+tag@ and any case to the box", async () => {
    const [local] = address.split("@");
    const id = resend.addInboundEmail({
      from: "c@example.com",
      to: [`${local?.toUpperCase()}+News@AGENTS.localhost`],
      subject: "tagged",
      text: "t",
    });
    const hook = resend.signedEmailReceivedWebhook(id, { secret });
    expect((await postWebhook(hook.body, hook.headers)).status).toBe(200);
    expect((await emailsOf()).some((row) => row.providerMessageId === id)).toBe(true);
  });

  it("acknowledges but records an oversize email instead of retrying it forever", async () => {
    const id = resend.addInboundEmail({
      from: "big@example.com",
      to: [address],
      subject: "huge",
      text: "x",
      attachments: [
        { filename: "big.bin", contentType: "application/octet-stream", content: Buffer.alloc(100 * 1024) },
      ],
    });
    const hook = resend.signedEmailReceivedWebhook(id, { secret });
    const res = await postWebhook(hook.body, hook.headers);
    expect(res.status).toBe(200);
    expect(res.body.received).toBe(false);
    expect((await emailsOf()).some((row) => row.providerMessageId === id)).toBe(false);
    const [row] = await server.deps.db
      .select()
      .from(unroutedEmail)
      .where(eq(unroutedEmail.providerMessageId, id));
    expect(row?.reason).toContain("larger than");
  });

  it("answers 502 (so Resend retries) when the receiving API fails, storing nothing", async () => {
    const hook = signedWebhook({
      secret,
      payload: {
        type: "email.received",
        created_at: new Date().toISOString(),
        data: { email_id: "unknown-id" },
      },
    });
    const res = await postWebhook(hook.body, hook.headers);
    expect(res.status).toBe(502);
  });
});

describe("SMTP listener", () => {
  const transport = () =>
    nodemailer.createTransport({
      host: "127.0.0.1",
      port: Number(server.smtpPort),
      secure: false,
      ignoreTLS: true,
    });

  it("accepts mail for a box from a real SMTP client and threads a reply", async () => {
    const first = await transport().sendMail({
      from: "Carol <carol@example.com>",
      to: address,
      subject: "Lunch?",
      text: "Are you free?",
      messageId: "<lunch-1@example.com>",
      attachments: [{ filename: "menu.txt", content: "soup" }],
    });
    expect(first.accepted).toEqual([address]);
    const reply = await transport().sendMail({
      from: "carol@example.com",
      to: address,
      subject: "Re: Lunch?",
      text: "Also, bring Dave.",
      messageId: "<lunch-2@example.com>",
      inReplyTo: "<lunch-1@example.com>",
      references: ["<lunch-1@example.com>"],
    });
    expect(reply.accepted).toEqual([address]);
    const rows = (await emailsOf()).filter((row) => row.messageId.startsWith("<lunch-"));
    expect(rows.map((row) => [row.messageId, row.threadId, row.provider])).toEqual(
      expect.arrayContaining([
        ["<lunch-1@example.com>", "<lunch-1@example.com>", "smtp"],
        ["<lunch-2@example.com>", "<lunch-1@example.com>", "smtp"],
      ]),
    );
    expect(rows.find((row) => row.messageId === "<lunch-1@example.com>")?.fromAddress).toBe(
      "Carol <carol@example.com>",
    );
    expect(rows.find((row) => row.messageId === "<lunch-1@example.com>")?.attachments[0]?.filename).toBe(
      "menu.txt",
    );
  });

  it("refuses unknown recipients at RCPT time", async () => {
    await expect(
      transport().sendMail({
        from: "x@example.com",
        to: "nobody-qqqq@agents.localhost",
        subject: "?",
        text: "?",
      }),
    ).rejects.toMatchObject({ responseCode: 550 });
  });

  it("refuses mail over the size limit", async () => {
    await expect(
      transport().sendMail({
        from: "x@example.com",
        to: address,
        subject: "big",
        text: "x".repeat(80 * 1024),
      }),
    ).rejects.toMatchObject({ responseCode: 552 });
  });

  it("stores a re-sent message once", async () => {
    const mail = {
      from: "d@example.com",
      to: address,
      subject: "dup",
      text: "same",
      messageId: "<dup-smtp@example.com>",
    };
    await transport().sendMail(mail);
    await transport().sendMail(mail);
    expect((await emailsOf()).filter((row) => row.messageId === "<dup-smtp@example.com>")).toHaveLength(1);
  });

  it("keeps mail from a blocked sender but does not deliver it", async () => {
    const res = await client.put(`/rpc/box/${boxId}/email-settings`, { blockedSenders: ["@spam.example"] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await transport().sendMail({
      from: "bad@spam.example",
      to: address,
      subject: "buy now",
      text: "!!!",
      messageId: "<spam@spam.example>",
    });
    const [row] = (await emailsOf()).filter((email) => email.messageId === "<spam@spam.example>");
    expect(row).toMatchObject({ status: "rejected", untrustedSender: true });
    expect(row?.errorMessage).toContain("sender rules");
  });
});
