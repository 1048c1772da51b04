import { boxRun, type Database, ledgerEntry } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { openScratchDatabase, seedUserWithBox } from "@vps-claude/testing/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerCostOfRuns } from "./run-cost";
import { toRunDto } from "./run-dto";

let scratch: Awaited<ReturnType<typeof openScratchDatabase>>;
let db: Database;

beforeAll(async () => {
  scratch = await openScratchDatabase();
  db = scratch.db;
});

afterAll(async () => {
  await scratch?.close();
});

type Owner = Awaited<ReturnType<typeof seedUserWithBox>>;

/** A completed run with what box-agent reported of its cost. */
async function completedRun(owner: Owner) {
  const [run] = await db
    .insert(boxRun)
    .values({
      id: newId("run"),
      boxId: owner.box.id,
      userId: owner.userId,
      trigger: "chat",
      contextType: "session",
      contextId: "owner",
      status: "completed",
      prompt: "hello",
      dispatch: {},
      maxDurationMs: 60_000,
      completedAt: new Date(),
      inputTokens: 1,
      outputTokens: 2,
      cacheReadTokens: 3,
      cacheWriteTokens: 4,
      costUsd: 0.5,
    })
    .returning();
  if (!run) {
    throw new Error("inserting the run returned no row");
  }
  return run;
}

/** A model request's ledger entry, written for `owner`'s box and naming `runId`. */
function entry(owner: Owner, runId: string, values: Partial<typeof ledgerEntry.$inferInsert> = {}) {
  return {
    id: newId("ledgerEntry"),
    userId: owner.userId,
    boxId: owner.box.id,
    boxName: owner.box.name,
    runId,
    trigger: "chat" as const,
    kind: "model" as const,
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    inputTokens: 1_234,
    outputTokens: 567,
    cacheReadTokens: 89,
    costUsd: 0.012345,
    sourceId: newId("modelRequest"),
    ...values,
  };
}

describe("a run's cost by the ledger", () => {
  it("is the sum of the run's entries, replacing what box-agent reported", async () => {
    const owner = await seedUserWithBox(db);
    const run = await completedRun(owner);
    await db.insert(ledgerEntry).values([entry(owner, run.id), entry(owner, run.id), entry(owner, run.id)]);
    const costs = await ledgerCostOfRuns({ db, boxId: owner.box.id, runIds: [run.id] });
    expect(toRunDto(run, costs.get(run.id))).toMatchObject({
      id: run.id,
      costUsd: 0.037035,
      inputTokens: 3_702,
      outputTokens: 1_701,
      cacheReadTokens: 267,
      cacheWriteTokens: 0,
    });
  });

  it("is box-agent's report for a run the ledger has nothing of", async () => {
    const owner = await seedUserWithBox(db);
    const run = await completedRun(owner);
    const costs = await ledgerCostOfRuns({ db, boxId: owner.box.id, runIds: [run.id] });
    expect(costs.size).toBe(0);
    expect(toRunDto(run, costs.get(run.id))).toMatchObject({
      costUsd: 0.5,
      inputTokens: 1,
      cacheWriteTokens: 4,
    });
  });

  it("is unknown (null) when one of its entries had no price, not a partial sum", async () => {
    const owner = await seedUserWithBox(db);
    const run = await completedRun(owner);
    await db
      .insert(ledgerEntry)
      .values([entry(owner, run.id), entry(owner, run.id, { model: "claude-unknown-9", costUsd: null })]);
    const costs = await ledgerCostOfRuns({ db, boxId: owner.box.id, runIds: [run.id] });
    expect(costs.get(run.id)).toMatchObject({ costUsd: null, inputTokens: 2_468 });
  });

  it("counts only entries of the run's own box: another box naming the run id adds nothing", async () => {
    const owner = await seedUserWithBox(db);
    const hostile = await seedUserWithBox(db, { boxName: "Hostile" });
    const run = await completedRun(owner);
    const other = await completedRun(owner);
    await db
      .insert(ledgerEntry)
      .values([
        entry(owner, run.id),
        entry(hostile, run.id, { costUsd: 100 }),
        entry(owner, other.id, { costUsd: 1 }),
      ]);
    const costs = await ledgerCostOfRuns({ db, boxId: owner.box.id, runIds: [run.id, other.id] });
    expect(costs.get(run.id)).toMatchObject({ costUsd: 0.012345, inputTokens: 1_234 });
    expect(costs.get(other.id)?.costUsd).toBe(1);
  });
});
