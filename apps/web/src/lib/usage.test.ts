import { describe, expect, it } from "vitest";
import {
  alertedBoxIds,
  bannerFor,
  buildStackedChart,
  daysInRange,
  parseBudgetAmount,
  periodRange,
  sumCronRuns,
} from "./usage";
import type { Run, RunPage, UsageRow, UserBudget } from "./usage-api";

function row(fields: Partial<UsageRow>): UsageRow {
  return {
    day: null,
    boxId: null,
    boxName: null,
    model: null,
    trigger: null,
    costUsd: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    mediaCalls: 0,
    modelRequests: 0,
    unpricedEntries: 0,
    ...fields,
  };
}

function run(fields: Partial<Run> & Pick<Run, "id" | "createdAt">): Run {
  return {
    boxId: "box_a",
    trigger: "cron",
    contextType: "cron",
    contextId: "cron_1",
    sessionId: null,
    status: "completed",
    prompt: "tick",
    result: null,
    error: null,
    model: null,
    maxDurationMs: 60_000,
    dispatchedAt: null,
    startedAt: null,
    completedAt: null,
    durationMs: null,
    inputTokens: null,
    outputTokens: null,
    cacheReadTokens: null,
    cacheWriteTokens: null,
    costUsd: null,
    emailId: null,
    cronjobId: "cron_1",
    cronjobExecutionId: null,
    retryOf: null,
    ...fields,
  };
}

describe("periodRange", () => {
  const now = new Date("2026-03-15T23:30:00.000Z");

  it.each([
    ["this-month", { from: "2026-03-01", to: "2026-03-15" }],
    ["last-month", { from: "2026-02-01", to: "2026-02-28" }],
    ["last-30-days", { from: "2026-02-14", to: "2026-03-15" }],
  ] as const)("reckons %s in UTC days", (period, expected) => {
    expect(periodRange(period, now)).toEqual(expected);
  });

  it("takes last month across a new year", () => {
    expect(periodRange("last-month", new Date("2026-01-02T00:00:00Z"))).toEqual({
      from: "2025-12-01",
      to: "2025-12-31",
    });
  });
});

describe("daysInRange", () => {
  it("lists every day, both ends included", () => {
    expect(daysInRange({ from: "2026-02-27", to: "2026-03-02" })).toEqual([
      "2026-02-27",
      "2026-02-28",
      "2026-03-01",
      "2026-03-02",
    ]);
  });

  it("stops at the limit", () => {
    expect(daysInRange({ from: "2000-01-01", to: "2030-01-01" }, 10)).toHaveLength(10);
  });
});

describe("buildStackedChart", () => {
  const days = ["2026-03-01", "2026-03-02"];

  it("stacks per day by box, costliest first, with zero-filled days", () => {
    const chart = buildStackedChart(
      [
        row({ day: "2026-03-01", boxId: "box_a", boxName: "Alpha", costUsd: 0.1 }),
        row({ day: "2026-03-02", boxId: "box_a", boxName: "Alpha", costUsd: 0.2 }),
        row({ day: "2026-03-02", boxId: "box_b", boxName: "Beta", costUsd: 1.5 }),
      ],
      "box",
      days,
    );
    expect(chart.series.map(({ key, label, costUsd }) => ({ key, label, costUsd }))).toEqual([
      { key: "s0", label: "Beta", costUsd: 1.5 },
      { key: "s1", label: "Alpha", costUsd: 0.3 },
    ]);
    expect(chart.points).toEqual([
      { day: "2026-03-01", s0: 0, s1: 0.1 },
      { day: "2026-03-02", s0: 1.5, s1: 0.2 },
    ]);
  });

  it("folds the cheapest groups into Other past the series limit", () => {
    const rows = ["m1", "m2", "m3", "m4"].map((model, index) =>
      row({ day: "2026-03-01", model, costUsd: 4 - index }),
    );
    const chart = buildStackedChart(rows, "model", days, 3);
    expect(chart.series.map((series) => series.label)).toEqual(["m1", "m2", "Other (2)"]);
    expect(chart.points[0]).toEqual({ day: "2026-03-01", s0: 4, s1: 3, other: 3 });
  });

  it("names what the ledger left without a trigger or model", () => {
    const chart = buildStackedChart([row({ day: "2026-03-01", costUsd: 1 })], "trigger", days);
    expect(chart.series[0]?.label).toBe("Outside a run");
  });
});

describe("bannerFor", () => {
  const reachedAt5 = { threshold: 100, capUsd: 5 };
  const warnedAt5 = { threshold: 80, capUsd: 5 };

  it.each([
    ["the server refused at $4.98 of $5.00", 4.98, 5, [warnedAt5, reachedAt5], "reached"],
    ["spend past the cap", 5.5, 5, [warnedAt5], "reached"],
    ["the cap lowered below an old 100 % alert", 4.98, 4, [reachedAt5], "reached"],
    ["80 % of the cap", 4.2, 5, [warnedAt5], "warning"],
    ["the cap raised since it was reached", 4.98, 6, [warnedAt5, reachedAt5], "warning"],
    ["the cap raised well above", 4.98, 50, [warnedAt5, reachedAt5], null],
    ["no alert sent", 4.98, 5, [], null],
    ["no cap", 4.98, null, [reachedAt5], null],
  ] as const)("%s", (_case, spent, cap, alerts, level) => {
    expect(bannerFor(spent, cap, alerts)?.level ?? null).toBe(level);
  });
});

describe("alertedBoxIds", () => {
  it("lists each alerted box once and ignores the user's own cap", () => {
    const alert = (scope: string, threshold: number) => ({
      scope,
      threshold,
      spentUsd: 1,
      capUsd: 1,
      createdAt: "2026-03-01T00:00:00.000Z",
    });
    const budget: UserBudget = {
      monthlyUsd: null,
      defaultMonthlyUsd: null,
      effectiveMonthlyUsd: null,
      spentUsd: 0,
      period: "2026-03",
      alerts: [alert("user", 80), alert("box:box_a", 80), alert("box:box_a", 100), alert("box:box_b", 80)],
    };
    expect(alertedBoxIds(budget)).toEqual(["box_a", "box_b"]);
  });
});

describe("parseBudgetAmount", () => {
  it.each([
    ["", null],
    ["  ", null],
    ["25", 25],
    ["12.5", 12.5],
    ["$1,250.00", 1250],
  ])("reads %j as %s", (text, value) => {
    expect(parseBudgetAmount(text)).toEqual({ ok: true, value });
  });

  it.each(["-5", "abc", "1.234", "1e3"])("says what is wrong with %j", (text) => {
    const parsed = parseBudgetAmount(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.message).toContain("US dollars");
  });
});

describe("sumCronRuns", () => {
  const range = { from: "2026-03-01", to: "2026-03-31" };

  it("sums this range's cron runs per cronjob and stops at the range's first day", async () => {
    const pages: RunPage[] = [
      {
        runs: [
          run({ id: "r4", createdAt: "2026-03-20T10:00:00.000Z", costUsd: 0.25 }),
          run({ id: "r3", createdAt: "2026-03-10T10:00:00.000Z", costUsd: null }),
        ],
        nextCursor: "c1",
      },
      {
        runs: [
          run({ id: "r2", createdAt: "2026-03-01T00:00:00.000Z", costUsd: 0.5, cronjobId: "cron_2" }),
          run({ id: "r1", createdAt: "2026-02-28T23:59:59.000Z", costUsd: 9 }),
        ],
        nextCursor: "c2",
      },
    ];
    const cursors: (string | undefined)[] = [];
    const result = await sumCronRuns(async (cursor) => {
      cursors.push(cursor);
      return pages[cursors.length - 1] ?? { runs: [], nextCursor: null };
    }, range);
    expect(cursors).toEqual([undefined, "c1"]);
    expect(result.complete).toBe(true);
    expect(result.costs).toEqual([
      { cronjobId: "cron_1", runs: 2, costUsd: 0.25, unpricedRuns: 1 },
      { cronjobId: "cron_2", runs: 1, costUsd: 0.5, unpricedRuns: 0 },
    ]);
  });

  it("says when the page limit cut the walk short", async () => {
    const page: RunPage = {
      runs: [run({ id: "r", createdAt: "2026-03-20T10:00:00.000Z", costUsd: 0.1 })],
      nextCursor: "more",
    };
    const result = await sumCronRuns(async () => page, range, 3);
    expect(result.complete).toBe(false);
    expect(result.costs[0]?.runs).toBe(3);
  });
});
