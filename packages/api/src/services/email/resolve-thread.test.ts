import { boxEmail, type Database } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { openScratchDatabase, seedUserWithBox } from "@vps-claude/testing/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveThreadId } from "./resolve-thread";

let scratch: Awaited<ReturnType<typeof openScratchDatabase>>;
let db: Database;
let boxId: string;
let otherBoxId: string;

async function storeEmail(owner: string, messageId: string, threadId: string) {
  await db.insert(boxEmail).values({
    id: newId("email"),
    boxId: owner,
    direction: "inbound",
    status: "received",
    messageId,
    threadId,
    fromAddress: "alice@example.com",
    toAddresses: ["box@agents.localhost"],
    provider: "smtp",
  });
}

beforeAll(async () => {
  scratch = await openScratchDatabase();
  db = scratch.db;
  boxId = (await seedUserWithBox(db)).box.id;
  otherBoxId = (await seedUserWithBox(db)).box.id;
  await storeEmail(boxId, "<root@mail.example.com>", "<root@mail.example.com>");
  await storeEmail(boxId, "<second@mail.example.com>", "<root@mail.example.com>");
  await storeEmail(otherBoxId, "<foreign@mail.example.com>", "<foreign-thread@mail.example.com>");
});

afterAll(async () => {
  await scratch?.close();
});

describe("resolveThreadId", () => {
  it("starts a new thread, keyed by its own Message-ID, for a message that references nothing", async () => {
    expect(await resolveThreadId({ db, boxId, messageId: "<new@x>", references: [] })).toBe("<new@x>");
  });

  it("joins the thread of a message it replies to that the box has seen", async () => {
    const threadId = await resolveThreadId({
      db,
      boxId,
      messageId: "<reply@x>",
      inReplyTo: "<second@mail.example.com>",
      references: ["<unknown@x>"],
    });
    expect(threadId).toBe("<root@mail.example.com>");
  });

  it("joins a known thread through References alone", async () => {
    const threadId = await resolveThreadId({
      db,
      boxId,
      messageId: "<reply@x>",
      references: ["<never-seen@x>", "<second@mail.example.com>"],
    });
    expect(threadId).toBe("<root@mail.example.com>");
  });

  it("names the thread after the oldest reference when none is known, so replies to one root meet", async () => {
    const threadId = await resolveThreadId({
      db,
      boxId,
      messageId: "<reply@x>",
      inReplyTo: "<parent@x>",
      references: ["<oldest@x>", "<parent@x>"],
    });
    expect(threadId).toBe("<oldest@x>");
    expect(
      await resolveThreadId({ db, boxId, messageId: "<r@x>", inReplyTo: "<parent@x>", references: [] }),
    ).toBe("<parent@x>");
  });

  it("never joins another box's thread", async () => {
    const threadId = await resolveThreadId({
      db,
      boxId,
      messageId: "<reply@x>",
      inReplyTo: "<foreign@mail.example.com>",
      references: [],
    });
    expect(threadId).toBe("<foreign@mail.example.com>");
  });
});
