import { boxEmail, type Database } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { openScratchDatabase, seedUserWithBox } from "@vps-claude/testing/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkOutboundRecipientLimit } from "./outbound-recipient-limit";

let scratch: Awaited<ReturnType<typeof openScratchDatabase>>;
let db: Database;

beforeAll(async () => {
  scratch = await openScratchDatabase();
  db = scratch.db;
});

afterAll(async () => {
  await scratch?.close();
});

async function sent(boxId: string, to: string[], cc: string[] = [], updatedAt = new Date()) {
  const id = newId("email");
  await db.insert(boxEmail).values({
    id,
    boxId,
    direction: "outbound",
    status: "sent",
    messageId: `<${id}@agents.localhost>`,
    threadId: `<${id}@agents.localhost>`,
    fromAddress: "box@agents.localhost",
    toAddresses: to,
    ccAddresses: cc,
    provider: "outbox",
    updatedAt,
  });
  return id;
}

const check = (boxId: string, recipients: number, retryOfEmailId?: string) =>
  db.transaction((tx) => checkOutboundRecipientLimit({ tx, boxId, recipients, limit: 5, retryOfEmailId }));

describe("checkOutboundRecipientLimit", () => {
  it("counts recipients (to + cc) of the last hour, not emails", async () => {
    const { box } = await seedUserWithBox(db);
    await sent(box.id, ["a@x.test", "b@x.test"], ["c@x.test"]);
    await expect(check(box.id, 2)).resolves.toBeUndefined();
    await expect(check(box.id, 3)).rejects.toThrow(
      "this box has sent to 3 recipients in the last hour; 3 more would pass its limit of 5 recipients per hour; try again later",
    );
  });

  it("forgets sends older than an hour", async () => {
    const { box } = await seedUserWithBox(db);
    await sent(
      box.id,
      ["a@x.test", "b@x.test", "c@x.test", "d@x.test"],
      [],
      new Date(Date.now() - 61 * 60_000),
    );
    await expect(check(box.id, 5)).resolves.toBeUndefined();
  });

  it("refuses one email with more recipients than the limit, whatever was sent before", async () => {
    const { box } = await seedUserWithBox(db);
    await expect(check(box.id, 6)).rejects.toThrow(
      "this email has 6 recipients; a box may send to at most 5 recipients per hour",
    );
  });

  it("charges a retry instead of the earlier send of the same email, not on top of it", async () => {
    const { box } = await seedUserWithBox(db);
    const failed = await sent(box.id, ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]);
    await expect(check(box.id, 4)).rejects.toThrow("would pass its limit");
    await expect(check(box.id, 4, failed)).resolves.toBeUndefined();
  });

  it("counts each box on its own", async () => {
    const first = await seedUserWithBox(db);
    const second = await seedUserWithBox(db);
    await sent(first.box.id, ["a@x.test", "b@x.test", "c@x.test", "d@x.test", "e@x.test"]);
    await expect(check(second.box.id, 5)).resolves.toBeUndefined();
  });
});
