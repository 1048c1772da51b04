import { boxEmail, boxRun, type Database } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { openScratchDatabase, seedUserWithBox } from "@vps-claude/testing/platform";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finishEmailRun } from "./finish-email-run";
import { emailContextId, latestRunsOfEmails } from "./start-email-run";

let scratch: Awaited<ReturnType<typeof openScratchDatabase>>;
let db: Database;

beforeAll(async () => {
  scratch = await openScratchDatabase();
  db = scratch.db;
});

afterAll(async () => {
  await scratch?.close();
});

type RunStatus = (typeof boxRun.$inferSelect)["status"];

async function deliveredEmail(boxId: string) {
  const id = newId("email");
  await db.insert(boxEmail).values({
    id,
    boxId,
    direction: "inbound",
    status: "delivered",
    messageId: `<${id}@example.com>`,
    threadId: `<${id}@example.com>`,
    fromAddress: "alice@example.com",
    toAddresses: ["box@agents.localhost"],
    provider: "smtp",
    deliveredAt: new Date(),
  });
  return id;
}

async function endedRun(
  target: { id: string; userId: string },
  emailId: string,
  status: RunStatus,
  {
    error = null,
    retryOf = null,
    createdAt = new Date(),
  }: { error?: string | null; retryOf?: string | null; createdAt?: Date } = {},
) {
  const [run] = await db
    .insert(boxRun)
    .values({
      id: newId("run"),
      boxId: target.id,
      userId: target.userId,
      trigger: "email",
      contextType: "email",
      contextId: emailContextId(`<${emailId}@example.com>`),
      status,
      prompt: "Email from alice@example.com: hello",
      error,
      dispatch: {},
      maxDurationMs: 60_000,
      emailId,
      retryOf,
      createdAt,
    })
    .returning();
  if (!run) {
    throw new Error("inserting the run returned no row");
  }
  return run;
}

async function emailOf(id: string) {
  const [row] = await db.select().from(boxEmail).where(eq(boxEmail.id, id));
  return row;
}

describe("finishEmailRun", () => {
  it("marks the email processed when its run completed", async () => {
    const { box } = await seedUserWithBox(db);
    const emailId = await deliveredEmail(box.id);
    await finishEmailRun({ db, run: await endedRun(box, emailId, "completed") });
    expect(await emailOf(emailId)).toMatchObject({ status: "processed", errorMessage: null });
  });

  it.each([
    ["failed", "Claude Code exited with code 1", "the run failed: Claude Code exited with code 1"],
    [
      "interrupted",
      "box-agent restarted while the run was in progress",
      "the run was interrupted: box-agent restarted while the run was in progress; retry it",
    ],
    ["cancelled", "cancelled by the owner", "the run was cancelled"],
  ] as const)("marks the email failed when its run ended %s, saying why", async (status, error, message) => {
    const { box } = await seedUserWithBox(db);
    const emailId = await deliveredEmail(box.id);
    await finishEmailRun({ db, run: await endedRun(box, emailId, status, { error }) });
    expect(await emailOf(emailId)).toMatchObject({ status: "failed", errorMessage: message });
  });

  it("lets only the email's latest run speak for it", async () => {
    const { box } = await seedUserWithBox(db);
    const emailId = await deliveredEmail(box.id);
    const first = await endedRun(box, emailId, "interrupted", {
      error: "no final event by the run's deadline",
      createdAt: new Date(Date.now() - 60_000),
    });
    const retry = await endedRun(box, emailId, "completed", { retryOf: first.id });
    await finishEmailRun({ db, run: retry });
    // The first run's end, recorded late, does not undo the retry's.
    await finishEmailRun({ db, run: first });
    expect(await emailOf(emailId)).toMatchObject({ status: "processed", errorMessage: null });

    const runs = await latestRunsOfEmails({ deps: { db }, boxId: box.id, emailIds: [emailId, "email_none"] });
    expect(runs.get(emailId)?.id).toBe(retry.id);
    expect(runs.has("email_none")).toBe(false);
  });

  it("ignores a run that has not ended", async () => {
    const { box } = await seedUserWithBox(db);
    const emailId = await deliveredEmail(box.id);
    await finishEmailRun({ db, run: await endedRun(box, emailId, "running") });
    expect((await emailOf(emailId))?.status).toBe("delivered");
  });
});

describe("emailContextId", () => {
  it("keeps a thread id box-agent accepts, and digests one it would refuse", () => {
    expect(emailContextId("<abc@example.com>")).toBe("<abc@example.com>");
    const long = `<${"x".repeat(300)}@example.com>`;
    expect(emailContextId(long)).toMatch(/^thread-sha256:[0-9a-f]{64}$/);
    expect(emailContextId(long)).toBe(emailContextId(long));
  });
});
