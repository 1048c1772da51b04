import { box, type Database, usageDaily } from "@vps-claude/db";
import { generateSubdomain, newId } from "@vps-claude/shared";
import { openScratchDatabase, seedUserWithBox } from "@vps-claude/testing/platform";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceError } from "../../errors";
import { reportSpan, usageReport } from "./usage-report";

let scratch: Awaited<ReturnType<typeof openScratchDatabase>>;
let db: Database;

beforeAll(async () => {
  scratch = await openScratchDatabase();
  db = scratch.db;
});

afterAll(async () => {
  await scratch?.close();
});

type RollupRow = typeof usageDaily.$inferInsert;

/** One rollup row as the ledger's write path keeps it; a model row unless `kind` says otherwise. */
function rollup(
  owner: { userId: string; boxId: string; boxName: string },
  values: Partial<RollupRow> & Pick<RollupRow, "day">,
): RollupRow {
  return {
    userId: owner.userId,
    boxId: owner.boxId,
    boxName: owner.boxName,
    kind: "model",
    model: "claude-sonnet-4-5",
    trigger: "chat",
    entries: 1,
    ...values,
  };
}

const NOW = new Date("2026-03-20T12:00:00Z");

/** A user with two boxes and a month of usage spread over days, models, triggers and media. */
async function seedUsage() {
  const { userId, box: first } = await seedUserWithBox(db, { boxName: "Research" });
  const [second] = await db
    .insert(box)
    .values({ id: newId("box"), userId, name: "Mail", subdomain: generateSubdomain("Mail") })
    .returning();
  if (!second) {
    throw new Error("inserting the second box returned no row");
  }
  const research = { userId, boxId: first.id, boxName: "Research" };
  const mail = { userId, boxId: second.id, boxName: "Mail" };
  await db.insert(usageDaily).values([
    rollup(research, {
      day: "2026-03-02",
      entries: 3,
      inputTokens: 3_702,
      outputTokens: 1_701,
      cacheReadTokens: 267,
      costUsd: 0.036,
    }),
    rollup(research, {
      day: "2026-03-02",
      trigger: "cron",
      entries: 2,
      inputTokens: 2_000,
      outputTokens: 1_000,
      costUsd: 0.021,
    }),
    rollup(research, {
      day: "2026-03-05",
      kind: "media",
      model: "fal-ai/flux/dev",
      trigger: "",
      entries: 2,
      mediaCalls: 2,
      costUsd: 0.05,
    }),
    rollup(mail, {
      day: "2026-03-05",
      trigger: "email",
      entries: 1,
      inputTokens: 1_234,
      outputTokens: 567,
      cacheReadTokens: 89,
      costUsd: 0.012,
    }),
    rollup(mail, {
      day: "2026-03-05",
      model: "claude-unknown-9",
      trigger: "email",
      entries: 1,
      unpricedEntries: 1,
      inputTokens: 10,
      outputTokens: 5,
      costUsd: 0,
    }),
    // Outside March: never in this month's report.
    rollup(research, { day: "2026-02-27", entries: 9, inputTokens: 9_999, costUsd: 9 }),
  ]);
  return { userId, research, mail };
}

describe("usageReport", () => {
  it("groups by day, this month by default, omitting days without usage, with the totals", async () => {
    const { userId } = await seedUsage();
    const report = await usageReport({ deps: { db }, userId, query: { groupBy: ["day"] }, now: NOW });
    expect(report).toMatchObject({ from: "2026-03-01", to: "2026-03-20", groupBy: ["day"] });
    expect(report.totals).toEqual({
      costUsd: 0.119,
      inputTokens: 6_946,
      outputTokens: 3_273,
      cacheReadTokens: 356,
      cacheWriteTokens: 0,
      mediaCalls: 2,
      modelRequests: 7,
      unpricedEntries: 1,
    });
    expect(report.rows.map((row) => [row.day, row.costUsd, row.inputTokens])).toEqual([
      ["2026-03-02", 0.057, 5_702],
      ["2026-03-05", 0.062, 1_244],
    ]);
    expect(report.rows[0]).toMatchObject({ boxId: null, boxName: null, model: null, trigger: null });
  });

  it("groups by box with its name, by trigger (none is null) and by model", async () => {
    const { userId, research, mail } = await seedUsage();
    const byBox = await usageReport({ deps: { db }, userId, query: { groupBy: ["box"] }, now: NOW });
    expect(byBox.rows.map((row) => [row.boxId, row.boxName, row.costUsd, row.mediaCalls])).toEqual([
      [research.boxId, "Research", 0.107, 2],
      [mail.boxId, "Mail", 0.012, 0],
    ]);

    const byTrigger = await usageReport({ deps: { db }, userId, query: { groupBy: ["trigger"] }, now: NOW });
    expect(byTrigger.rows.map((row) => [row.trigger, row.costUsd, row.modelRequests])).toEqual([
      [null, 0.05, 0],
      ["chat", 0.036, 3],
      ["cron", 0.021, 2],
      ["email", 0.012, 2],
    ]);
    expect(byTrigger.rows[0]).toMatchObject({ day: null, boxId: null, model: null, mediaCalls: 2 });

    const byModel = await usageReport({ deps: { db }, userId, query: { groupBy: ["model"] }, now: NOW });
    expect(byModel.rows.map((row) => [row.model, row.unpricedEntries])).toEqual([
      ["claude-sonnet-4-5", 0],
      ["fal-ai/flux/dev", 0],
      ["claude-unknown-9", 1],
    ]);
  });

  it("groups by two: a row per day and box, days in order", async () => {
    const { userId, research, mail } = await seedUsage();
    const report = await usageReport({ deps: { db }, userId, query: { groupBy: ["day", "box"] }, now: NOW });
    expect(report.rows.map((row) => [row.day, row.boxName, row.costUsd])).toEqual([
      ["2026-03-02", "Research", 0.057],
      ["2026-03-05", "Research", 0.05],
      ["2026-03-05", "Mail", 0.012],
    ]);
    expect(report.rows[2]).toMatchObject({ boxId: mail.boxId, model: null, trigger: null });
    expect(report.rows[0]?.boxId).toBe(research.boxId);
  });

  it("filters to one box, a deleted one too (by the name it last had), and covers a given span", async () => {
    const { userId, research } = await seedUsage();
    await db
      .insert(usageDaily)
      .values(rollup({ ...research, boxName: "Research (renamed)" }, { day: "2026-03-09", costUsd: 1 }));
    await db.delete(box).where(eq(box.id, research.boxId));
    const report = await usageReport({
      deps: { db },
      userId,
      query: { groupBy: ["box"], boxId: research.boxId, from: "2026-02-01", to: "2026-03-31" },
      now: NOW,
    });
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0]).toMatchObject({
      boxId: research.boxId,
      boxName: "Research (renamed)",
      costUsd: 10.107,
    });
    expect(report.totals.costUsd).toBe(10.107);
  });

  it("shows only the caller's own usage; another user's box is 404, like one that never existed", async () => {
    const owner = await seedUsage();
    const stranger = await seedUserWithBox(db, { boxName: "Stranger" });
    const theirs = await usageReport({
      deps: { db },
      userId: stranger.userId,
      query: { groupBy: ["box"] },
      now: NOW,
    });
    expect(theirs.rows).toEqual([]);
    expect(theirs.totals).toMatchObject({ costUsd: 0, inputTokens: 0, mediaCalls: 0, modelRequests: 0 });
    for (const boxId of [owner.research.boxId, newId("box")]) {
      const refused = usageReport({
        deps: { db },
        userId: stranger.userId,
        query: { groupBy: ["day"], boxId },
        now: NOW,
      });
      await expect(refused).rejects.toMatchObject({
        code: "NOT_FOUND",
        message: `box '${boxId}' was not found`,
      });
    }
  });
});

describe("reportSpan", () => {
  it("defaults to this month so far, and takes a span as given", () => {
    expect(reportSpan({}, NOW)).toEqual({ from: "2026-03-01", to: "2026-03-20" });
    expect(reportSpan({ from: "2025-12-30", to: "2026-01-02" }, NOW)).toEqual({
      from: "2025-12-30",
      to: "2026-01-02",
    });
  });

  it.each([
    [{ from: "2026-02-31" }, "from '2026-02-31' is not a calendar day"],
    [{ to: "2026-13-01" }, "to '2026-13-01' is not a calendar day"],
    [{ from: "2026-03-21" }, "from (2026-03-21) is after to (2026-03-20)"],
    [{ from: "2020-01-01", to: "2026-01-01" }, "a usage report covers at most 731 days"],
  ])("refuses %j: %s", (span, message) => {
    expect(() => reportSpan(span, NOW)).toThrow(ServiceError);
    expect(() => reportSpan(span, NOW)).toThrow(message);
  });
});
