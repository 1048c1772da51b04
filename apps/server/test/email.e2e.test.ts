import { box, boxEmail } from "@vps-claude/db";
import {
  anthropicReply,
  type FakeAnthropic,
  type FakeResend,
  generateWebhookSecret,
  scriptedClaude,
  startFakeAnthropic,
  startFakeResend,
} from "@vps-claude/testing";
import { and, eq } from "drizzle-orm";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * Mail in, Claude, mail out — with every real part: the signed Resend webhook (or a real SMTP
 * client), Postgres, BullMQ, a sprites-local sandbox running box-agent, the real Agent SDK and CLI
 * against a fake Messages API, and the fake Resend receiving the reply.
 */
const script = scriptedClaude({
  rules: [
    {
      when: [/\b(email_[0-9a-z]{26})\b/, "REPLY"],
      reply: ({ match }) =>
        anthropicReply.toolUse("mcp__box-agent__email_send", {
          to: "alice@example.com",
          body: "Thanks, **Alice** — noted.",
          replyToEmailId: match?.[1],
        }),
    },
  ],
  otherwise: () => "Read it; nothing to do.",
  afterTools: (results) =>
    `Handled: ${results.map((result) => `${result.toolName} ${result.isError ? "failed" : "ok"}`).join(", ")}`,
});

let fake: FakeAnthropic;
let resend: FakeResend;
let server: TestServer;
let client: TestClient;
let boxId: string;
let address: string;
const secret = generateWebhookSecret();

async function inboundByMessageId(messageId: string) {
  const [row] = await server.deps.db
    .select()
    .from(boxEmail)
    .where(
      and(eq(boxEmail.boxId, boxId), eq(boxEmail.direction, "inbound"), eq(boxEmail.messageId, messageId)),
    );
  return row;
}

/** Delivered to the box, and its run (which answers it) ended well. */
async function waitProcessed(messageId: string, timeout = 90_000) {
  await expect
    .poll(async () => (await inboundByMessageId(messageId))?.status, { timeout, interval: 200 })
    .toBe("processed");
  return inboundByMessageId(messageId);
}

async function spriteName() {
  const [row] = await server.deps.db.select().from(box).where(eq(box.id, boxId));
  return String(row?.spriteName);
}

async function postWebhook(emailId: string) {
  const hook = resend.signedEmailReceivedWebhook(emailId, { secret });
  const res = await fetch(`${server.url}/webhooks/inbound-email`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(hook.headers as unknown as Record<string, string>) },
    body: hook.body,
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

beforeAll(async () => {
  fake = await startFakeAnthropic({ respond: script });
  resend = await startFakeResend();
  server = await startTestServer({
    workers: true,
    sprites: true,
    smtp: true,
    spriteIdleMs: 4_000,
    env: {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: "sk-ant-test",
      RESEND_API_KEY: resend.apiKey,
      RESEND_BASE_URL: resend.url,
      RESEND_WEBHOOK_SECRET: secret,
      EMAIL_DELIVERY_RETRY_BASE_MS: "300",
    },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "60000" },
  });
  ({ client } = await signedInClient(server));
  const created = await client.post("/rpc/box", { name: "Mailbox" });
  boxId = String(created.body.id);
  address = String(created.body.email);
  const ready = await waitFor(
    async () => (await client.get(`/rpc/box/${boxId}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 120_000, what: "the box to deploy" },
  );
  if (ready.status !== "running") {
    throw new Error(`box did not deploy: ${JSON.stringify(ready)}`);
  }
});
afterAll(async () => {
  await server?.close();
  await resend?.close();
  await fake?.close();
});

describe("email end to end", () => {
  let replyMessageId = "";
  let firstSessionId: string | undefined;

  it("a signed webhook lands in the box's inbox, and Claude's reply reaches Resend threaded", async () => {
    const resendId = resend.addInboundEmail({
      from: "Alice <alice@example.com>",
      to: [address],
      subject: "Dinner on Friday",
      text: "Can you book a table? REPLY please.",
      messageId: "<dinner-1@example.com>",
    });
    await postWebhook(resendId);
    const inbound = await waitProcessed("<dinner-1@example.com>");

    const file = await server.deps.sprites.exec(
      await spriteName(),
      `cat ~/.inbox/${inbound?.id}.json; stat -c %a ~/.inbox/${inbound?.id}.json`,
    );
    expect(file.stdout).toContain("Dinner on Friday");
    expect(file.stdout.trim().endsWith("600")).toBe(true);

    await expect.poll(() => resend.sentEmails.length, { timeout: 60_000, interval: 300 }).toBe(1);
    const reply = resend.sentEmails[0];
    const [outbound] = await server.deps.db
      .select()
      .from(boxEmail)
      .where(and(eq(boxEmail.boxId, boxId), eq(boxEmail.direction, "outbound")));
    expect(reply?.from).toBe(`"Mailbox" <${address}>`);
    expect(reply?.to).toEqual(["alice@example.com"]);
    expect(reply?.subject).toBe("Re: Dinner on Friday");
    expect(reply?.headers["In-Reply-To"]).toBe("<dinner-1@example.com>");
    expect(reply?.headers.References).toBe("<dinner-1@example.com>");
    expect(reply?.html).toContain("<strong>Alice</strong>");
    expect(reply?.text).toContain("Alice");
    expect(reply?.idempotencyKey).toBe(outbound?.id);
    await expect
      .poll(
        async () =>
          (
            await server.deps.db
              .select()
              .from(boxEmail)
              .where(eq(boxEmail.id, String(outbound?.id)))
          )[0]?.status,
      )
      .toBe("sent");
    expect(outbound?.threadId).toBe("<dinner-1@example.com>");
    replyMessageId = String(reply?.headers["Message-ID"]);

    const request = fake
      .messageRequests()
      .find((r) => r.conversation.lastUserText()?.includes("Dinner on Friday"));
    firstSessionId = request?.sessionId;
    expect(firstSessionId).toBeDefined();
    // The email reached Claude as untrusted content.
    expect(request?.conversation.lastUserText()).toContain("untrusted");
  });

  it("the next email of the thread resumes the same Claude session", async () => {
    const resendId = resend.addInboundEmail({
      from: "alice@example.com",
      to: [address],
      subject: "Re: Re: Dinner on Friday",
      text: "Great, 8pm works.",
      messageId: "<dinner-3@example.com>",
      headers: { "In-Reply-To": replyMessageId, References: `<dinner-1@example.com> ${replyMessageId}` },
    });
    await postWebhook(resendId);
    const inbound = await waitProcessed("<dinner-3@example.com>");
    expect(inbound?.threadId).toBe("<dinner-1@example.com>");
    await expect
      .poll(
        () =>
          fake.messageRequests().find((r) => r.conversation.lastUserText()?.includes("8pm works"))?.sessionId,
        {
          timeout: 60_000,
        },
      )
      .toBe(firstSessionId);
    const request = fake.messageRequests().find((r) => r.conversation.lastUserText()?.includes("8pm works"));
    expect(request?.conversation.userTexts().some((text) => text.includes("Dinner on Friday"))).toBe(true);
  });

  it("works the same through the SMTP listener", async () => {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: Number(server.smtpPort),
      ignoreTLS: true,
    });
    await transport.sendMail({
      from: "Bob <bob@example.com>",
      to: address,
      subject: "Via SMTP",
      text: "Hello over SMTP",
      messageId: "<smtp-e2e@example.com>",
    });
    const inbound = await waitProcessed("<smtp-e2e@example.com>");
    const file = await server.deps.sprites.exec(await spriteName(), `cat ~/.inbox/${inbound?.id}.json`);
    expect(file.stdout).toContain("Hello over SMTP");
    await expect
      .poll(
        () => fake.messageRequests().some((r) => r.conversation.lastUserText()?.includes("Hello over SMTP")),
        { timeout: 60_000 },
      )
      .toBe(true);
  });

  it("wakes a sleeping box to deliver", async () => {
    const name = await spriteName();
    await expect
      .poll(async () => (await server.deps.sprites.getSprite(name))?.status, {
        timeout: 30_000,
        interval: 500,
      })
      .toMatch(/warm|cold/);
    const resendId = resend.addInboundEmail({
      from: "carol@example.com",
      to: [address],
      subject: "Wake up",
      text: "ping",
      messageId: "<wake@example.com>",
    });
    await postWebhook(resendId);
    await waitProcessed("<wake@example.com>");
  });

  it("keeps retrying while box-agent is down, and delivers once it is back", async () => {
    const name = await spriteName();
    await server.deps.sprites.exec(name, "true");
    const service = await server.deps.sprites.getService(name, "box-agent");
    expect(service).not.toBeNull();
    await server.deps.sprites.deleteService(name, "box-agent");

    const resendId = resend.addInboundEmail({
      from: "dave@example.com",
      to: [address],
      subject: "While down",
      text: "are you there?",
      messageId: "<down@example.com>",
    });
    await postWebhook(resendId);
    await expect
      .poll(async () => (await inboundByMessageId("<down@example.com>"))?.attempts ?? 0, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(2);
    const pending = await inboundByMessageId("<down@example.com>");
    expect(pending?.status).toBe("queued");
    expect(pending?.errorMessage).toContain("retrying");

    // Bring box-agent back the way a redeploy does.
    const redeploy = await client.post("/rpc/box/deploy", { id: boxId });
    expect(redeploy.status).toBe(200);
    await waitProcessed("<down@example.com>", 120_000);
  });
});
