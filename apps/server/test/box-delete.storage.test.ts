import { existsSync } from "node:fs";
import { join } from "node:path";
import { boxEmail } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer } from "./harness";

let server: TestServer;
let client: TestClient;

beforeAll(async () => {
  server = await startTestServer({ workers: true, sprites: true });
  ({ client } = await signedInClient(server));
});
afterAll(async () => {
  await server?.close();
});

/** What a box leaves outside the database: generated media, an inbound attachment, an outbox copy of a sent email. */
async function storeFilesFor(boxId: string) {
  const { deps } = server;
  const inboundId = newId("email");
  const outboundId = newId("email");
  const attachmentKey = `attachments/${inboundId}/0-report.pdf`;
  const mediaKey = `media/${boxId}/usage_x.png`;
  await deps.db.insert(boxEmail).values([
    {
      id: inboundId,
      boxId,
      direction: "inbound",
      status: "delivered",
      messageId: `<${inboundId}@example.com>`,
      threadId: `<${inboundId}@example.com>`,
      fromAddress: "alice@example.com",
      toAddresses: ["box@agents.localhost"],
      provider: "smtp",
      attachments: [
        { filename: "report.pdf", contentType: "application/pdf", size: 3, storageKey: attachmentKey },
      ],
    },
    {
      id: outboundId,
      boxId,
      direction: "outbound",
      status: "sent",
      messageId: `<${outboundId}@agents.localhost>`,
      threadId: `<${outboundId}@agents.localhost>`,
      fromAddress: "box@agents.localhost",
      toAddresses: ["alice@example.com"],
      provider: "outbox",
    },
  ]);
  await deps.storage.put(attachmentKey, Buffer.from("pdf"));
  await deps.storage.put(mediaKey, Buffer.from("png"));
  await deps.emailProvider.send({
    id: outboundId,
    from: "box@agents.localhost",
    to: ["alice@example.com"],
    subject: "hi",
    text: "hi",
    html: "<p>hi</p>",
    headers: { "Message-ID": `<${outboundId}@agents.localhost>` },
  });
  const outboxDir = join(server.dataDir, "outbox");
  return {
    attachment: join(server.dataDir, "storage", attachmentKey),
    media: join(server.dataDir, "storage", mediaKey),
    outboxJson: join(outboxDir, `${outboundId}.json`),
    outboxEml: join(outboxDir, `${outboundId}.eml`),
  };
}

describe("deleting a box", () => {
  it("removes its media, attachments and outbox entries, and leaves a neighbour's alone", async () => {
    const doomed = String((await client.post("/rpc/box", { name: "doomed" })).body.id);
    const neighbour = String((await client.post("/rpc/box", { name: "neighbour" })).body.id);
    const doomedFiles = await storeFilesFor(doomed);
    const neighbourFiles = await storeFilesFor(neighbour);
    for (const file of [...Object.values(doomedFiles), ...Object.values(neighbourFiles)]) {
      expect(existsSync(file), file).toBe(true);
    }

    const deleted = await client.delete(`/rpc/box/${doomed}`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    await expect
      .poll(async () => (await client.get(`/rpc/box/${doomed}`)).status, { timeout: 60_000 })
      .toBe(404);

    // The row goes first (the cascade), then the job removes the files: wait for the job, not just the 404.
    for (const file of Object.values(doomedFiles)) {
      await expect
        .poll(() => existsSync(file), { message: `${file} should be gone with its box` })
        .toBe(false);
    }
    for (const file of Object.values(neighbourFiles)) {
      expect(existsSync(file), `${file} belongs to another box`).toBe(true);
    }
  });
});
