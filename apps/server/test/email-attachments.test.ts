import { randomBytes } from "node:crypto";
import { boxEmail } from "@vps-claude/db";
import { type FakeResend, generateWebhookSecret, startFakeResend } from "@vps-claude/testing";
import { eq } from "drizzle-orm";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, TestClient, type TestServer } from "./harness";

/**
 * An inbound email's attachments, downloaded by the box's owner exactly as they arrived (through
 * Resend or the SMTP listener), as downloads a browser never renders in the API's origin.
 */

let resend: FakeResend;
let server: TestServer;
let owner: TestClient;
let stranger: TestClient;
let boxId: string;
let address: string;
const secret = generateWebhookSecret();

beforeAll(async () => {
  resend = await startFakeResend();
  server = await startTestServer({
    workers: false,
    smtp: true,
    env: { RESEND_API_KEY: resend.apiKey, RESEND_BASE_URL: resend.url, RESEND_WEBHOOK_SECRET: secret },
  });
  ({ client: owner } = await signedInClient(server));
  ({ client: stranger } = await signedInClient(server));
  const created = await owner.post("/rpc/box", { name: "Attachments" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  address = String(created.body.email);
});
afterAll(async () => {
  await server?.close();
  await resend?.close();
});

/** The raw answer, bytes and all (the test client reads bodies as text). */
async function download(client: TestClient, path: string) {
  const response = await fetch(`${server.url}${path}`, { headers: { cookie: client.cookieHeader } });
  return { response, bytes: Buffer.from(await response.arrayBuffer()) };
}

const attachmentPath = (emailId: string, index: number | string, box = boxId) =>
  `/rpc/box/${box}/emails/${emailId}/attachments/${index}`;

async function emailWithMessageId(messageId: string): Promise<string> {
  let id: string | undefined;
  await expect
    .poll(async () => {
      const [row] = await server.deps.db.select().from(boxEmail).where(eq(boxEmail.messageId, messageId));
      id = row?.id;
      return id;
    })
    .toBeDefined();
  return String(id);
}

async function receiveThroughResend(
  attachments: { filename: string; contentType: string; content: Buffer }[],
): Promise<string> {
  const messageId = `<att-${randomBytes(4).toString("hex")}@example.com>`;
  const id = resend.addInboundEmail({
    from: "Alice <alice@example.com>",
    to: [address],
    subject: "Files for you",
    text: "See attached.",
    messageId,
    attachments,
  });
  const hook = resend.signedEmailReceivedWebhook(id, { secret });
  const res = await fetch(`${server.url}/webhooks/inbound-email`, {
    method: "POST",
    headers: { "content-type": "application/json", ...hook.headers },
    body: hook.body,
  });
  expect(res.status, await res.text()).toBe(200);
  return emailWithMessageId(messageId);
}

describe("downloading an attachment", () => {
  it("answers a Resend email's attachments byte for byte, in the order the detail lists them", async () => {
    const photo = randomBytes(70_000);
    const sheet = Buffer.from("a,b\n1,2\n");
    const emailId = await receiveThroughResend([
      { filename: "photo.png", contentType: "image/png", content: photo },
      { filename: "numbers.csv", contentType: "text/csv", content: sheet },
    ]);

    const detail = await owner.get(`/rpc/box/${boxId}/emails/${emailId}`);
    expect(detail.status, JSON.stringify(detail.body)).toBe(200);
    expect(detail.body.attachments).toEqual([
      { filename: "photo.png", contentType: "image/png", size: photo.length },
      { filename: "numbers.csv", contentType: "text/csv", size: sheet.length },
    ]);

    const first = await download(owner, attachmentPath(emailId, 0));
    expect(first.response.status, first.bytes.toString()).toBe(200);
    expect(first.bytes.equals(photo)).toBe(true);
    expect(first.response.headers.get("content-type")).toBe("image/png");
    expect(first.response.headers.get("content-length")).toBe(String(photo.length));
    expect(first.response.headers.get("content-disposition")).toBe(
      `attachment; filename="photo.png"; filename*=UTF-8''photo.png`,
    );
    expect(first.response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(first.response.headers.get("cache-control")).toBe("private, no-store");

    const second = await download(owner, attachmentPath(emailId, 1));
    expect(second.response.status).toBe(200);
    expect(second.bytes.equals(sheet)).toBe(true);
    expect(second.response.headers.get("content-type")).toBe("text/csv");
  });

  it("serves an SMTP email's HTML attachment as opaque bytes under a sanitised name", async () => {
    const page = Buffer.from("<script>alert(document.cookie)</script>");
    const messageId = `<smtp-att-${randomBytes(4).toString("hex")}@example.com>`;
    const sent = await nodemailer
      .createTransport({ host: "127.0.0.1", port: Number(server.smtpPort), secure: false, ignoreTLS: true })
      .sendMail({
        from: "carol@example.com",
        to: address,
        subject: "A page",
        text: "Open it.",
        messageId,
        attachments: [{ filename: "Bericht März.html", content: page, contentType: "text/html" }],
      });
    expect(sent.accepted).toEqual([address]);
    const emailId = await emailWithMessageId(messageId);

    const { response, bytes } = await download(owner, attachmentPath(emailId, 0));
    expect(response.status, bytes.toString()).toBe(200);
    expect(bytes.equals(page)).toBe(true);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="Bericht M_rz.html"; filename*=UTF-8''Bericht%20M%C3%A4rz.html`,
    );
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("is 404 for an index the email does not have, and 400 for one that is no index", async () => {
    const emailId = await receiveThroughResend([
      { filename: "only.txt", contentType: "text/plain", content: Buffer.from("one") },
    ]);
    const missing = await owner.get(attachmentPath(emailId, 1));
    expect(missing.status, JSON.stringify(missing.body)).toBe(404);
    expect(missing.body.message).toBe(`email '${emailId}' has no attachment 1; it has 1 (numbered from 0)`);
    const negative = await owner.get(attachmentPath(emailId, -1));
    expect(negative.status, JSON.stringify(negative.body)).toBe(400);
    const word = await owner.get(attachmentPath(emailId, "first"));
    expect(word.status, JSON.stringify(word.body)).toBe(400);
    expect(String(word.body.message)).toContain("index must be a whole number from 0");
  });

  it("is 404 to another user, and through another box of the owner", async () => {
    const emailId = await receiveThroughResend([
      { filename: "private.txt", contentType: "text/plain", content: Buffer.from("secret plans") },
    ]);
    const strangers = await download(stranger, attachmentPath(emailId, 0));
    expect(strangers.response.status).toBe(404);
    expect(strangers.bytes.toString()).not.toContain("secret plans");
    const anonymous = await download(new TestClient(server), attachmentPath(emailId, 0));
    expect(anonymous.response.status).toBe(401);

    const otherBox = await owner.post("/rpc/box", { name: "Elsewhere" });
    expect(otherBox.status, JSON.stringify(otherBox.body)).toBe(201);
    const viaOtherBox = await download(owner, attachmentPath(emailId, 0, String(otherBox.body.id)));
    expect(viaOtherBox.response.status).toBe(404);
    expect(viaOtherBox.bytes.toString()).not.toContain("secret plans");
  });
});
