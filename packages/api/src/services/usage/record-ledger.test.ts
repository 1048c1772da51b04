import { box, boxRun, type Database, ledgerEntry, modelRequest, usageDaily, user } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { openScratchDatabase, seedUserWithBox } from "@vps-claude/testing/platform";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyUsage } from "../model-gateway/model-usage";
import { type ModelRequestRecord, recordModelRequests } from "../model-gateway/record-model-request";
import { PRICE_TABLE_VERSION, priceOf } from "./prices";
import { type LedgerEntryInput, recordLedgerEntries } from "./record-ledger";

let scratch: Awaited<ReturnType<typeof openScratchDatabase>>;
let db: Database;

beforeAll(async () => {
  scratch = await openScratchDatabase();
  db = scratch.db;
});

afterAll(async () => {
  await scratch?.close();
});

const TURN = { inputTokens: 1234, outputTokens: 567, cacheReadTokens: 89, cacheWriteTokens: 0 };
const TURN_COST = 0.012234;

async function runOf(target: { id: string; userId: string }, trigger: "chat" | "email" | "cron" | "api") {
  const id = newId("run");
  await db.insert(boxRun).values({
    id,
    boxId: target.id,
    userId: target.userId,
    trigger,
    contextType: "session",
    contextId: id,
    prompt: "hi",
    dispatch: {},
    maxDurationMs: 60_000,
  });
  return id;
}

function modelEntry(
  target: { id: string; userId: string; name: string },
  overrides: Partial<LedgerEntryInput> = {},
): LedgerEntryInput {
  return {
    userId: target.userId,
    boxId: target.id,
    boxName: target.name,
    claimedRunId: null,
    kind: "model",
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    capability: null,
    tokens: TURN,
    ...priceOf({ kind: "model", provider: "anthropic", model: "claude-sonnet-4-5", tokens: TURN }),
    sourceId: newId("modelRequest"),
    createdAt: new Date(),
    ...overrides,
  };
}

function request(
  target: { id: string; userId: string; name: string },
  overrides: Partial<ModelRequestRecord> = {},
): ModelRequestRecord {
  return {
    id: newId("modelRequest"),
    userId: target.userId,
    boxId: target.id,
    boxName: target.name,
    runId: null,
    method: "POST",
    path: "/v1/messages",
    model: "claude-sonnet-4-5",
    streamed: true,
    keySource: "platform",
    status: 200,
    usage: TURN,
    durationMs: 12,
    errorMessage: null,
    endedAt: new Date(),
    ...overrides,
  };
}

const ledgerOf = (boxId: string) => db.select().from(ledgerEntry).where(eq(ledgerEntry.boxId, boxId));
const rollupOf = (boxId: string) => db.select().from(usageDaily).where(eq(usageDaily.boxId, boxId));

describe("recordLedgerEntries", () => {
  it("sums entries into usage_daily per day, kind, model and trigger, with the run's trigger", async () => {
    const { box: target } = await seedUserWithBox(db, { boxName: "Ledger" });
    const chat = await runOf(target, "chat");
    const cron = await runOf(target, "cron");
    await recordLedgerEntries(db, [
      modelEntry(target, { claimedRunId: chat }),
      modelEntry(target, { claimedRunId: chat }),
      modelEntry(target, { claimedRunId: cron }),
      modelEntry(target, { model: "claude-nova-9", costUsd: null }),
      {
        ...modelEntry(target),
        kind: "media",
        provider: "fal",
        model: "fal-ai/flux/dev",
        capability: "image",
        tokens: undefined,
        units: 2,
        unit: "image",
        costUsd: 0.05,
      },
    ]);

    const entries = await ledgerOf(target.id);
    expect(entries).toHaveLength(5);
    expect(entries.filter((entry) => entry.runId === chat).map((entry) => entry.trigger)).toEqual([
      "chat",
      "chat",
    ]);
    expect(entries.find((entry) => entry.runId === cron)).toMatchObject({
      trigger: "cron",
      inputTokens: 1234,
      outputTokens: 567,
      cacheReadTokens: 89,
      cacheWriteTokens: 0,
      costUsd: TURN_COST,
      priceVersion: PRICE_TABLE_VERSION,
      boxName: "Ledger",
    });
    expect(entries.find((entry) => entry.kind === "media")).toMatchObject({
      provider: "fal",
      capability: "image",
      units: 2,
      unit: "image",
      costUsd: 0.05,
      runId: null,
      trigger: null,
    });

    const day = new Date().toISOString().slice(0, 10);
    const rollup = await rollupOf(target.id);
    const key = (row: (typeof rollup)[number]) => `${row.kind}|${row.model}|${row.trigger}`;
    expect(Object.fromEntries(rollup.map((row) => [key(row), row]))).toEqual({
      "model|claude-sonnet-4-5|chat": expect.objectContaining({
        day,
        boxName: "Ledger",
        entries: 2,
        unpricedEntries: 0,
        inputTokens: 2468,
        outputTokens: 1134,
        cacheReadTokens: 178,
        cacheWriteTokens: 0,
        mediaCalls: 0,
        costUsd: 2 * TURN_COST,
      }),
      "model|claude-sonnet-4-5|cron": expect.objectContaining({ entries: 1, costUsd: TURN_COST }),
      "model|claude-nova-9|": expect.objectContaining({
        entries: 1,
        unpricedEntries: 1,
        inputTokens: 1234,
        costUsd: 0,
      }),
      "media|fal-ai/flux/dev|": expect.objectContaining({
        entries: 1,
        mediaCalls: 1,
        costUsd: 0.05,
        inputTokens: 0,
      }),
    });
  });

  it("keeps a claimed run only when it is the box's own", async () => {
    const { box: mine } = await seedUserWithBox(db);
    const { box: theirs } = await seedUserWithBox(db);
    const theirRun = await runOf(theirs, "email");
    await recordLedgerEntries(db, [
      modelEntry(mine, { claimedRunId: theirRun }),
      modelEntry(mine, { claimedRunId: "run_made_up" }),
    ]);
    const entries = await ledgerOf(mine.id);
    expect(entries.map((entry) => [entry.runId, entry.trigger])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect((await rollupOf(mine.id)).map((row) => [row.trigger, row.entries])).toEqual([["", 2]]);
  });

  it("adds nothing when the same sources are written again", async () => {
    const { box: target } = await seedUserWithBox(db);
    const batch = [modelEntry(target), modelEntry(target)];
    await recordLedgerEntries(db, batch);
    await recordLedgerEntries(db, batch);
    // A batch that repeats a source within itself counts it once too.
    await recordLedgerEntries(db, [batch[0] as LedgerEntryInput, batch[0] as LedgerEntryInput]);
    expect(await ledgerOf(target.id)).toHaveLength(2);
    const [row] = await rollupOf(target.id);
    expect(row).toMatchObject({ entries: 2, inputTokens: 2468, costUsd: 2 * TURN_COST });
  });

  it("puts an entry on the UTC day it happened, not the day it was written", async () => {
    const { box: target } = await seedUserWithBox(db);
    await recordLedgerEntries(db, [
      modelEntry(target, { createdAt: new Date("2026-11-30T23:59:59.900Z") }),
      modelEntry(target, { createdAt: new Date("2026-12-01T00:00:00.100Z") }),
    ]);
    const days = (await rollupOf(target.id)).map((row) => [row.day, row.entries]).sort();
    expect(days).toEqual([
      ["2026-11-30", 1],
      ["2026-12-01", 1],
    ]);
  });

  it("keeps a deleted box's entries and rollup, by its id and name", async () => {
    const { box: target } = await seedUserWithBox(db, { boxName: "Gone soon" });
    const run = await runOf(target, "api");
    await recordLedgerEntries(db, [modelEntry(target, { claimedRunId: run })]);
    await db.delete(box).where(eq(box.id, target.id));
    const [entry] = await ledgerOf(target.id);
    expect(entry).toMatchObject({ boxName: "Gone soon", runId: run, trigger: "api", costUsd: TURN_COST });
    expect(await rollupOf(target.id)).toEqual([
      expect.objectContaining({ boxName: "Gone soon", trigger: "api", entries: 1 }),
    ]);
  });

  it("skips an entry whose owner was deleted, and still writes the others", async () => {
    const { box: kept } = await seedUserWithBox(db);
    const { box: orphan, userId } = await seedUserWithBox(db);
    await db.delete(user).where(eq(user.id, userId));
    await recordLedgerEntries(db, [modelEntry(orphan), modelEntry(kept)]);
    expect(await ledgerOf(orphan.id)).toHaveLength(0);
    expect(await ledgerOf(kept.id)).toHaveLength(1);
  });
});

describe("recordModelRequests (the gateway's batch)", () => {
  it("writes each request's row and, for what the API answered, its ledger entry; a retried batch adds nothing", async () => {
    const { box: target } = await seedUserWithBox(db);
    const run = await runOf(target, "email");
    const batch = [
      request(target, { runId: run }),
      // count_tokens: a 2xx without tokens is still what the API answered.
      request(target, { path: "/v1/messages/count_tokens", usage: emptyUsage(), runId: run }),
      // A 429 reports no tokens and costs nothing: no entry.
      request(target, { status: 429, usage: emptyUsage(), errorMessage: "rate_limit_error: slow down" }),
      // The upstream never answered: no entry.
      request(target, { status: 0, usage: emptyUsage(), errorMessage: "upstream unreachable" }),
      // Cut mid-stream after message_start: billed for what it reported.
      request(target, { usage: { ...emptyUsage(), inputTokens: 500 }, errorMessage: "client disconnected" }),
    ];
    await recordModelRequests({ deps: { db }, records: batch });
    await recordModelRequests({ deps: { db }, records: batch });

    const rows = await db.select().from(modelRequest).where(eq(modelRequest.boxId, target.id));
    expect(rows).toHaveLength(5);
    const entries = await ledgerOf(target.id);
    expect(entries.map((entry) => entry.sourceId).sort()).toEqual(
      [batch[0], batch[1], batch[4]].map((record) => record?.id).sort(),
    );
    expect(entries.find((entry) => entry.sourceId === batch[0]?.id)).toMatchObject({
      runId: run,
      trigger: "email",
      kind: "model",
      provider: "anthropic",
      model: "claude-sonnet-4-5",
      inputTokens: 1234,
      outputTokens: 567,
      cacheReadTokens: 89,
      costUsd: TURN_COST,
      createdAt: batch[0]?.endedAt,
    });
    expect(entries.find((entry) => entry.sourceId === batch[1]?.id)).toMatchObject({
      costUsd: 0,
      inputTokens: 0,
    });
    expect(entries.find((entry) => entry.sourceId === batch[4]?.id)?.costUsd).toBe(0.0015);
    const rollup = await rollupOf(target.id);
    expect(rollup.map((row) => [row.trigger, row.entries, row.inputTokens, row.costUsd]).sort()).toEqual([
      ["", 1, 500, 0.0015],
      ["email", 2, 1234, TURN_COST],
    ]);
  });

  it("writes no ledger entry with the ledger switched off (the bench's baseline)", async () => {
    const { box: target } = await seedUserWithBox(db);
    await recordModelRequests({ deps: { db }, records: [request(target)], ledger: false });
    expect(await db.select().from(modelRequest).where(eq(modelRequest.boxId, target.id))).toHaveLength(1);
    expect(await ledgerOf(target.id)).toHaveLength(0);
  });
});
