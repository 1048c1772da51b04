import type { AddressInfo } from "node:net";
import { getBoxToken } from "@vps-claude/api";
import { boxEmail } from "@vps-claude/db";
import { type FakeResend, startFakeResend } from "@vps-claude/testing";
import { eq, sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, TestClient, type TestServer } from "./harness";

let resend: FakeResend;
let server: TestServer;
let owner: TestClient;
let boxClient: TestClient;
let boxId: string;
let address: string;

async function emailRow(id: string) {
  const [row] = await server.deps.db.select().from(boxEmail).where(eq(boxEmail.id, id));
  return row;
}

async function waitForEmailStatus(id: string, statuses: string[], timeout = 30_000) {
  await expect
    .poll(async () => statuses.includes(String((await emailRow(id))?.status)), { timeout, interval: 100 })
    .toBe(true);
  return emailRow(id);
}

async function boxTokenClient(target: TestServer, id: string) {
  const token = await getBoxToken({ db: target.deps.db, keyring: target.deps.keyring, boxId: id });
  return new TestClient(target, { "x-box-secret": String(token) });
}

beforeAll(async () => {
  resend = await startFakeResend();
  server = await startTestServer({
    workers: true,
    env: { RESEND_API_KEY: resend.apiKey, RESEND_BASE_URL: resend.url, EMAIL_SENDS_PER_HOUR: "8" },
  });
  ({ client: owner } = await signedInClient(server));
  const created = await owner.post("/rpc/box", { name: "Outbound" });
  boxId = String(created.body.id);
  address = String(created.body.email);
  boxClient = await boxTokenClient(server, boxId);
});
afterAll(async () => {
  await server?.close();
  await resend?.close();
});

describe("sending through Resend", () => {
  it("renders markdown, sends from the box's address with our id as idempotency key", async () => {
    const res = await boxClient.post("/box/email/send", {
      to: "friend@example.com",
      subject: "Weekly report",
      body: "Hello **friend**,\n\n- one\n- two\n\n<script>alert(1)</script>",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id = String(res.body.id);
    const sent = await waitForEmailStatus(id, ["sent", "failed"]);
    expect(sent?.status, String(sent?.errorMessage)).toBe("sent");

    const delivered = resend.sentEmails.find((email) => email.idempotencyKey === id);
    expect(delivered).toBeDefined();
    expect(delivered?.from).toBe(`"Outbound" <${address}>`);
    expect(delivered?.to).toEqual(["friend@example.com"]);
    expect(delivered?.subject).toBe("Weekly report");
    expect(delivered?.html).toContain("<strong>friend</strong>");
    expect(delivered?.html).not.toContain("<script");
    expect(delivered?.text).toContain("friend");
    expect(delivered?.headers["Message-ID"]).toBe(sent?.messageId);
    expect(sent?.providerMessageId).toBe(delivered?.id);
  });

  it("threads a reply: Re: subject, In-Reply-To, References, same thread", async () => {
    const inboundId = "email_inbound_for_reply";
    await server.deps.db.insert(boxEmail).values({
      id: inboundId,
      boxId,
      direction: "inbound",
      status: "delivered",
      messageId: "<second@example.com>",
      inReplyTo: "<first@example.com>",
      references: ["<first@example.com>"],
      threadId: "<first@example.com>",
      fromAddress: "Alice <alice@example.com>",
      toAddresses: [address],
      subject: "Plans",
      provider: "smtp",
    });
    const res = await boxClient.post("/box/email/send", {
      to: ["alice@example.com"],
      body: "Sounds good.",
      replyToEmailId: inboundId,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ subject: "Re: Plans", threadId: "<first@example.com>" });
    const sent = await waitForEmailStatus(String(res.body.id), ["sent", "failed"]);
    expect(sent?.status).toBe("sent");
    const delivered = resend.sentEmails.find((email) => email.idempotencyKey === res.body.id);
    expect(delivered?.subject).toBe("Re: Plans");
    expect(delivered?.headers["In-Reply-To"]).toBe("<second@example.com>");
    expect(delivered?.headers.References).toBe("<first@example.com> <second@example.com>");
  });

  it("records a send the provider refuses as failed with its reason, and the owner can retry it", async () => {
    resend.failNextSends({ status: 422, name: "validation_error", message: "The to address is invalid." });
    const res = await boxClient.post("/box/email/send", {
      to: "x@example.com",
      subject: "refused",
      body: "no",
    });
    const failed = await waitForEmailStatus(String(res.body.id), ["sent", "failed"]);
    expect(failed?.status).toBe("failed");
    expect(failed?.errorMessage).toContain("The to address is invalid.");

    const retried = await owner.post(`/rpc/box/${boxId}/emails/${res.body.id}/retry`);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const sent = await waitForEmailStatus(String(res.body.id), ["sent"]);
    expect(sent?.status).toBe("sent");
  });

  it("retries a transient provider error and sends once", async () => {
    resend.failNextSends({ status: 500, name: "application_error", message: "try later" });
    const res = await boxClient.post("/box/email/send", {
      to: "y@example.com",
      subject: "transient",
      body: "yes",
    });
    const sent = await waitForEmailStatus(String(res.body.id), ["sent", "failed"], 30_000);
    expect(sent?.status, String(sent?.errorMessage)).toBe("sent");
    expect(sent?.attempts).toBe(2);
    expect(resend.sentEmails.filter((email) => email.idempotencyKey === res.body.id)).toHaveLength(1);
  });
});

describe("what a box may send", () => {
  it.each([
    [{ to: "not-an-address", subject: "s", body: "b" }, 400, "each recipient must be a valid email address"],
    [{ to: [], subject: "s", body: "b" }, 400, "at least one recipient"],
    [{ to: "a@example.com", subject: "s", body: "" }, 400, "body must not be empty"],
    [{ to: "a@example.com", body: "no subject" }, 400, "a new email needs a subject"],
    [
      { to: "a@example.com", body: "x", replyToEmailId: "email_nope" },
      404,
      "email 'email_nope' was not found",
    ],
    [
      { to: "a@example.com", subject: "s", body: "x".repeat(600 * 1024) },
      400,
      "body must be at most 500 KiB",
    ],
  ])("%j → %i", async (body, status, message) => {
    const res = await boxClient.post("/box/email/send", body);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(String(res.body.message)).toContain(message);
  });

  it("cannot reply in another box's thread", async () => {
    const other = await owner.post("/rpc/box", { name: "Other" });
    const otherClient = await boxTokenClient(server, String(other.body.id));
    const res = await otherClient.post("/box/email/send", {
      to: "a@example.com",
      body: "x",
      replyToEmailId: "email_inbound_for_reply",
    });
    expect(res.status).toBe(404);
  });

  it("rate-limits a box per hour", async () => {
    const other = await owner.post("/rpc/box", { name: "Chatty" });
    const chatty = await boxTokenClient(server, String(other.body.id));
    for (let i = 0; i < 8; i++) {
      expect(
        (await chatty.post("/box/email/send", { to: "a@example.com", subject: `n${i}`, body: "x" })).status,
      ).toBe(202);
    }
    const limited = await chatty.post("/box/email/send", {
      to: "a@example.com",
      subject: "one more",
      body: "x",
    });
    expect(limited.status).toBe(429);
    expect(String(limited.body.message)).toContain("limit");
  });

  // The server's limit is 8, set through EMAIL_SENDS_PER_HOUR, the variable's former name.
  const addresses = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}@example.com`);

  it("counts recipients (to + cc), not emails", async () => {
    const other = await owner.post("/rpc/box", { name: "Broadcaster" });
    const broadcaster = await boxTokenClient(server, String(other.body.id));
    const first = await broadcaster.post("/box/email/send", {
      to: addresses(3, "to"),
      cc: addresses(2, "cc"),
      subject: "five",
      body: "x",
    });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const tooMany = await broadcaster.post("/box/email/send", {
      to: addresses(4, "more"),
      subject: "four",
      body: "x",
    });
    expect(tooMany.status, JSON.stringify(tooMany.body)).toBe(429);
    expect(String(tooMany.body.message)).toContain("sent to 5 recipients in the last hour");
    expect(String(tooMany.body.message)).toContain("limit of 8 recipients per hour");
    const fits = await broadcaster.post("/box/email/send", {
      to: addresses(3, "fits"),
      subject: "three",
      body: "x",
    });
    expect(fits.status, JSON.stringify(fits.body)).toBe(202);
    const oneMore = await broadcaster.post("/box/email/send", {
      to: "last@example.com",
      subject: "one",
      body: "x",
    });
    expect(oneMore.status).toBe(429);
  });

  it("refuses one email with more recipients than the hourly limit", async () => {
    const other = await owner.post("/rpc/box", { name: "Spammer" });
    const spammer = await boxTokenClient(server, String(other.body.id));
    const res = await spammer.post("/box/email/send", { to: addresses(9, "all"), subject: "all", body: "x" });
    expect(res.status, JSON.stringify(res.body)).toBe(429);
    expect(String(res.body.message)).toContain("this email has 9 recipients");
  });

  it("puts an owner's retry of a failed send through the same recipient limit", async () => {
    const other = await owner.post("/rpc/box", { name: "Retrier" });
    const otherId = String(other.body.id);
    const retrier = await boxTokenClient(server, otherId);
    resend.failNextSends({ status: 422, name: "validation_error", message: "The to address is invalid." });
    const failedSend = await retrier.post("/box/email/send", {
      to: addresses(4, "old"),
      subject: "old",
      body: "x",
    });
    const failed = await waitForEmailStatus(String(failedSend.body.id), ["sent", "failed"]);
    expect(failed?.status).toBe("failed");
    // That attempt was two hours ago: it no longer counts against this hour.
    await server.deps.db.execute(
      sql`update box_email set created_at = now() - interval '2 hours', updated_at = now() - interval '2 hours' where id = ${failed?.id}`,
    );
    const fresh = await retrier.post("/box/email/send", {
      to: addresses(8, "new"),
      subject: "new",
      body: "x",
    });
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(202);

    const retried = await owner.post(`/rpc/box/${otherId}/emails/${failed?.id}/retry`);
    expect(retried.status, JSON.stringify(retried.body)).toBe(429);
    expect(String(retried.body.message)).toContain("4 more would pass its limit of 8 recipients per hour");
    expect((await emailRow(String(failed?.id)))?.status).toBe("failed");
  });
});

describe("sending through an SMTP relay", () => {
  it("delivers to a real SMTP server with threading headers", async () => {
    const received: Buffer[] = [];
    const relay = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      onAuth(auth, _session, callback) {
        callback(null, { user: auth.username });
      },
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          received.push(Buffer.concat(chunks));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", () => resolve()));
    const port = (relay.server.address() as AddressInfo).port;
    const relayServer = await startTestServer({
      workers: true,
      env: { SMTP_URL: `smtp://127.0.0.1:${port}` },
    });
    try {
      const { client } = await signedInClient(relayServer);
      const created = await client.post("/rpc/box", { name: "Relay" });
      const sender = await boxTokenClient(relayServer, String(created.body.id));
      const res = await sender.post("/box/email/send", {
        to: "bob@example.com",
        subject: "Via relay",
        body: "# Title\n\nbody",
      });
      expect(res.status).toBe(202);
      await expect.poll(() => received.length, { timeout: 20_000 }).toBe(1);
      const mail = await simpleParser(received[0] ?? Buffer.alloc(0));
      expect(mail.subject).toBe("Via relay");
      expect(mail.from?.text).toContain(String(created.body.email));
      expect(mail.messageId).toBe(res.body.messageId);
      expect(mail.html).toContain("<h1");
      expect(mail.text).toContain("Title");
      const [row] = await relayServer.deps.db
        .select()
        .from(boxEmail)
        .where(eq(boxEmail.id, String(res.body.id)));
      expect(row).toMatchObject({ status: "sent", provider: "smtp" });
    } finally {
      await relayServer.close();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });
});
