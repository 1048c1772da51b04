import { deliverInboundEmail } from "@vps-claude/api";
import { box, boxEmail, boxRun } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import {
  anthropicReply,
  type FakeAnthropic,
  type FakeResend,
  generateWebhookSecret,
  scriptedClaude,
  startFakeAnthropic,
  startFakeResend,
} from "@vps-claude/testing";
import { and, asc, eq } from "drizzle-orm";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * An inbound email is delivered, then answered by a run the platform records: the email ends
 * `processed` (or `failed` with its run's reason) and names its run; the owner's retry starts a new
 * run. Every real part: webhook and SMTP in, BullMQ, sprites-local with box-agent, the real CLI
 * against the fake Messages API.
 */
const script = scriptedClaude({
  rules: [
    {
      when: [/\b(email_[0-9a-z]{26})\b/, "PLEASE-REPLY"],
      reply: ({ match }) =>
        anthropicReply.toolUse("mcp__box-agent__email_send", {
          to: "alice@example.com",
          body: "On it.",
          replyToEmailId: match?.[1],
        }),
    },
  ],
  otherwise: () => "Read it; nothing to do.",
});

/** While set, a prompt containing FAIL-THIS-RUN is answered with an API error, so its run fails. */
let failMarkedRuns = true;

let fake: FakeAnthropic;
let resend: FakeResend;
let server: TestServer;
let client: TestClient;
let boxId: string;
let address: string;
const secret = generateWebhookSecret();

async function emailRow(id: string) {
  const [row] = await server.deps.db.select().from(boxEmail).where(eq(boxEmail.id, id));
  return row;
}

async function inboundByMessageId(messageId: string) {
  const [row] = await server.deps.db
    .select()
    .from(boxEmail)
    .where(
      and(eq(boxEmail.boxId, boxId), eq(boxEmail.direction, "inbound"), eq(boxEmail.messageId, messageId)),
    );
  return row;
}

async function runsOfEmail(emailId: string) {
  return server.deps.db
    .select()
    .from(boxRun)
    .where(eq(boxRun.emailId, emailId))
    .orderBy(asc(boxRun.createdAt), asc(boxRun.id));
}

/** Waits for the email to leave `received`/`queued`/`delivered` and returns it as it ended. */
async function waitEmailEnded(emailId: string, timeout = 120_000) {
  return waitFor(
    () => emailRow(emailId),
    (row) => row?.status === "processed" || row?.status === "failed",
    { timeout, interval: 250, what: `email ${emailId} to end processed or failed` },
  );
}

async function postWebhook(input: Parameters<FakeResend["addInboundEmail"]>[0]) {
  const hook = resend.signedEmailReceivedWebhook(resend.addInboundEmail(input), { secret });
  const res = await fetch(`${server.url}/webhooks/inbound-email`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(hook.headers as unknown as Record<string, string>) },
    body: hook.body,
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function waitForInbound(messageId: string) {
  const row = await waitFor(
    () => inboundByMessageId(messageId),
    (found) => found !== undefined,
    { timeout: 30_000, what: `inbound ${messageId} to be stored` },
  );
  if (!row) {
    throw new Error(`inbound ${messageId} was not stored`);
  }
  return row;
}

async function spriteName() {
  const [row] = await server.deps.db.select().from(box).where(eq(box.id, boxId));
  return String(row?.spriteName);
}

/** How many copies of the email the box's mailbox holds (unread in `~/.inbox`, read in its `.archive`). */
async function inboxCopies(emailId: string) {
  const listing = await server.deps.sprites.exec(
    await spriteName(),
    `ls -1 ~/.inbox ~/.inbox/.archive 2>/dev/null || true`,
  );
  return listing.stdout.split(/\s+/).filter((name) => name === `${emailId}.json`).length;
}

/** An inbound email as the receiving side stores it, without queueing its delivery (the test drives it). */
async function insertInbound(subject: string, status: "received" | "failed", errorMessage?: string) {
  const id = newId("email");
  const messageId = `<${id}@example.com>`;
  await server.deps.db.insert(boxEmail).values({
    id,
    boxId,
    direction: "inbound",
    status,
    messageId,
    threadId: messageId,
    fromAddress: "erin@example.com",
    toAddresses: [address],
    subject,
    textBody: `${subject}: nothing to do.`,
    provider: "smtp",
    errorMessage: errorMessage ?? null,
  });
  return id;
}

beforeAll(async () => {
  fake = await startFakeAnthropic({
    respond: (conversation) => {
      const prompt = conversation.lastUserText() ?? "";
      if (
        failMarkedRuns &&
        prompt.includes("FAIL-THIS-RUN") &&
        conversation.pendingToolResults().length === 0
      ) {
        return anthropicReply.error(400, "the fake model refuses this email");
      }
      return script(conversation);
    },
  });
  resend = await startFakeResend();
  server = await startTestServer({
    workers: true,
    sprites: true,
    smtp: true,
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
  const created = await client.post("/rpc/box", { name: "Runs mailbox" });
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
}, 240_000);

afterAll(async () => {
  await server?.close();
  await resend?.close();
  await fake?.close();
});

describe("an inbound email's run", () => {
  it("a webhook email is delivered, answered by one recorded run, and ends processed with the run linked", async () => {
    await postWebhook({
      from: "Alice <alice@example.com>",
      to: [address],
      subject: "Quarterly numbers",
      text: "Could you confirm? PLEASE-REPLY",
      messageId: "<numbers-1@example.com>",
    });
    const stored = await waitForInbound("<numbers-1@example.com>");
    const ended = await waitEmailEnded(stored.id);
    expect(ended?.status, String(ended?.errorMessage)).toBe("processed");
    expect(ended?.deliveredAt).toBeInstanceOf(Date);
    expect(ended?.errorMessage).toBeNull();

    const runs = await runsOfEmail(stored.id);
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run).toMatchObject({
      boxId,
      trigger: "email",
      status: "completed",
      contextType: "email",
      contextId: "<numbers-1@example.com>",
      retryOf: null,
    });
    expect(run?.prompt).toContain("Quarterly numbers");
    expect(run?.prompt).toContain("alice@example.com");

    // The owner sees the run from the email, in the list and in the detail.
    const detail = await client.get(`/rpc/box/${boxId}/emails/${stored.id}`);
    expect(detail.status, JSON.stringify(detail.body)).toBe(200);
    expect(detail.body).toMatchObject({ status: "processed", runId: run?.id });
    const list = await client.get(`/rpc/box/${boxId}/emails?direction=inbound`);
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    const summary = (list.body as unknown as { id: string; runId: string | null }[]).find(
      (email) => email.id === stored.id,
    );
    expect(summary?.runId).toBe(run?.id);

    // Its answer went out once, threaded.
    await expect
      .poll(() => resend.sentEmails.filter((sent) => sent.subject === "Re: Quarterly numbers").length, {
        timeout: 60_000,
      })
      .toBe(1);
    const outbound = await server.deps.db
      .select()
      .from(boxEmail)
      .where(and(eq(boxEmail.boxId, boxId), eq(boxEmail.direction, "outbound")));
    expect(outbound.filter((email) => email.threadId === "<numbers-1@example.com>")).toHaveLength(1);
  });

  it("an SMTP email ends processed the same way", async () => {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: Number(server.smtpPort),
      ignoreTLS: true,
    });
    await transport.sendMail({
      from: "Bob <bob@example.com>",
      to: address,
      subject: "Over SMTP",
      text: "Just so you know.",
      messageId: "<smtp-runs@example.com>",
    });
    const stored = await waitForInbound("<smtp-runs@example.com>");
    const ended = await waitEmailEnded(stored.id);
    expect(ended?.status, String(ended?.errorMessage)).toBe("processed");
    const runs = await runsOfEmail(stored.id);
    expect(runs.map((run) => [run.trigger, run.status])).toEqual([["email", "completed"]]);
  });

  it("a run that fails leaves the email failed with the run's reason; retry starts a new run that processes it", async () => {
    failMarkedRuns = true;
    await postWebhook({
      from: "carol@example.com",
      to: [address],
      subject: "Doomed at first",
      text: "FAIL-THIS-RUN",
      messageId: "<doomed@example.com>",
    });
    const stored = await waitForInbound("<doomed@example.com>");
    const failed = await waitEmailEnded(stored.id);
    expect(failed?.status).toBe("failed");
    expect(failed?.errorMessage).toMatch(/^the run failed: /);
    const [firstRun, ...others] = await runsOfEmail(stored.id);
    expect(others).toEqual([]);
    expect(firstRun?.status).toBe("failed");
    expect((await client.get(`/rpc/box/${boxId}/emails/${stored.id}`)).body.runId).toBe(firstRun?.id);

    failMarkedRuns = false;
    const retried = await client.post(`/rpc/box/${boxId}/emails/${stored.id}/retry`);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body.status).toBe("delivered");
    expect(retried.body.runId).toBeTruthy();
    expect(retried.body.runId).not.toBe(firstRun?.id);

    // A second press while the retry's run goes is refused, not a third run.
    const again = await client.post(`/rpc/box/${boxId}/emails/${stored.id}/retry`);
    expect(again.status, JSON.stringify(again.body)).toBe(409);

    const processed = await waitEmailEnded(stored.id);
    expect(processed?.status, String(processed?.errorMessage)).toBe("processed");
    expect(processed?.errorMessage).toBeNull();
    const runs = await runsOfEmail(stored.id);
    expect(runs.map((run) => run.status)).toEqual(["failed", "completed"]);
    expect(runs[1]).toMatchObject({ id: retried.body.runId, retryOf: firstRun?.id, trigger: "email" });
    // The retry continued the thread's Claude session.
    expect(runs[1]?.contextId).toBe(firstRun?.contextId);
    expect((await client.get(`/rpc/box/${boxId}/emails/${stored.id}`)).body.runId).toBe(retried.body.runId);
  });

  it("an email never delivered is delivered again by retry, and then answered", async () => {
    const id = await insertInbound("Lost in transit", "failed", "not delivered after 13 attempts: box down");
    const retried = await client.post(`/rpc/box/${boxId}/emails/${id}/retry`);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({ status: "received", runId: null });
    const ended = await waitEmailEnded(id);
    expect(ended?.status, String(ended?.errorMessage)).toBe("processed");
    expect(await runsOfEmail(id)).toHaveLength(1);
    expect(await inboxCopies(id)).toBe(1);
  });

  it("deliveries repeated and racing (a retried job) give the email one run, and the box one copy", async () => {
    const id = await insertInbound("Delivered twice", "received");
    const attempt = (n: number) =>
      deliverInboundEmail({ deps: server.deps, emailId: id, attempt: n, isFinalAttempt: false });
    const outcomes = await Promise.all([attempt(1), attempt(2)]);
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(["delivered", "delivered"]);
    const runIds = outcomes.map((outcome) => ("runId" in outcome ? outcome.runId : undefined));
    expect(runIds[0]).toBeTruthy();
    expect(runIds[1]).toBe(runIds[0]);

    // The worker died after delivering and starting the run, before its job was done: the job runs again.
    const repeated = await attempt(3);
    expect("runId" in repeated ? repeated.runId : undefined).toBe(runIds[0]);

    const ended = await waitEmailEnded(id);
    expect(ended?.status, String(ended?.errorMessage)).toBe("processed");
    expect((await runsOfEmail(id)).map((run) => run.id)).toEqual([runIds[0]]);
    // A job that comes after the email was processed has nothing to do.
    expect((await attempt(4)).outcome).toBe("nothing-to-do");
    expect(await runsOfEmail(id)).toHaveLength(1);
    expect(await inboxCopies(id)).toBe(1);
  });

  it("refuses to retry an email that did not fail", async () => {
    const processed = await server.deps.db
      .select()
      .from(boxEmail)
      .where(and(eq(boxEmail.boxId, boxId), eq(boxEmail.status, "processed")))
      .limit(1);
    const [row] = processed;
    expect(row).toBeDefined();
    const res = await client.post(`/rpc/box/${boxId}/emails/${row?.id}/retry`);
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(String(res.body.message)).toContain("only a failed email can be retried; this one is processed");
  });
});
