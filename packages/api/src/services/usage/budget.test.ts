import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { box, budgetAlert, type Database, usageDaily } from "@vps-claude/db";
import { type Platform, seedUserWithBox, startPlatform, waitFor } from "@vps-claude/testing/platform";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { admitSpend, getUserBudget, setBoxBudget, setUserBudget } from "./budget";
import { alertAfterSpend, checkBudgetAlerts } from "./budget-alerts";
import { monthDays, monthPeriod, monthSpend } from "./month-spend";
import { budgetReachedMessage, effectiveUserCap, formatUsd } from "./spend-caps";

/**
 * Budgets on a real Postgres and BullMQ with the local outbox: spend is put into `usage_daily`
 * directly (what the ledger writer maintains), so each test states the spend it means.
 */

const PLATFORM_DEFAULT_USD = 50;

let platform: Platform;
let deps: ApiDeps;

beforeAll(async () => {
  platform = await startPlatform({
    label: "budget",
    workers: true,
    env: {
      DEFAULT_MONTHLY_BUDGET_USD: String(PLATFORM_DEFAULT_USD),
      PLATFORM_EMAIL_FROM: "Platform <billing@example.test>",
    },
  });
  deps = platform.deps;
});

afterAll(async () => {
  await platform?.close();
});

const today = () => new Date().toISOString().slice(0, 10);

/** Adds spend to a box's rollup for a day (this month's today by default). */
async function addSpend(db: Database, target: typeof box.$inferSelect, costUsd: number, day = today()) {
  await db.insert(usageDaily).values({
    userId: target.userId,
    boxId: target.id,
    boxName: target.name,
    day,
    kind: "model",
    model: `claude-test-${Math.random().toString(36).slice(2, 8)}`,
    trigger: "chat",
    entries: 1,
    costUsd,
  });
}

async function outboxEntries(): Promise<
  { id: string; from: string; to: string[]; subject: string; text: string }[]
> {
  const dir = join(platform.dataDir, "outbox");
  const files = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(
    files
      .filter((file) => file.endsWith(".json"))
      .map(async (file) => JSON.parse(await readFile(join(dir, file), "utf8"))),
  );
}

describe("monthSpend", () => {
  it("sums this UTC month's known cost, per user and per box, and leaves other months out", async () => {
    const { box: first } = await seedUserWithBox(deps.db, { boxName: "First" });
    const [second] = await deps.db
      .insert(box)
      .values({ ...first, id: `${first.id}x`, name: "Second", subdomain: `${first.subdomain}x` })
      .returning();
    if (!second) {
      throw new Error("second box not inserted");
    }
    const { first: monthStart } = monthDays(new Date());
    const lastMonth = new Date(Date.parse(`${monthStart}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    await addSpend(deps.db, first, 1.25);
    await addSpend(deps.db, first, 0.5, monthStart);
    await addSpend(deps.db, second, 2);
    await addSpend(deps.db, first, 100, lastMonth);

    expect(await monthSpend({ deps, userId: first.userId, maxAgeMs: 0 })).toBeCloseTo(3.75, 6);
    expect(await monthSpend({ deps, userId: first.userId, boxId: first.id })).toBeCloseTo(1.75, 6);
    expect(await monthSpend({ deps, userId: first.userId, boxId: second.id })).toBeCloseTo(2, 6);
    expect(await monthSpend({ deps, userId: first.userId, boxId: "box_none" })).toBe(0);
  });

  it("reuses the month's spend within the cache's age, and reads afresh when asked to", async () => {
    const { userId, box: target } = await seedUserWithBox(deps.db);
    // A long cache, so "within its age" does not depend on how fast this machine is.
    const cached = {
      ...deps,
      config: { ...deps.config, money: { ...deps.config.money, spendCacheMs: 600_000 } },
    };
    await addSpend(deps.db, target, 1);
    expect(await monthSpend({ deps: cached, userId, maxAgeMs: 0 })).toBeCloseTo(1, 6);
    await addSpend(deps.db, target, 2);
    expect(await monthSpend({ deps: cached, userId })).toBeCloseTo(1, 6);
    expect(await monthSpend({ deps: cached, userId, maxAgeMs: 0 })).toBeCloseTo(3, 6);
  });

  it("names periods and month bounds in UTC", () => {
    const lateOnNewYearsEve = new Date("2026-12-31T23:59:59.999Z");
    expect(monthPeriod(lateOnNewYearsEve)).toBe("2026-12");
    expect(monthDays(lateOnNewYearsEve)).toEqual({ first: "2026-12-01", next: "2027-01-01" });
  });
});

describe("caps", () => {
  it("the user's cap is the lower of the platform's default and their own", () => {
    expect(effectiveUserCap(null, null)).toBeNull();
    expect(effectiveUserCap(5, null)).toBe(5);
    expect(effectiveUserCap(null, 3)).toBe(3);
    expect(effectiveUserCap(5, 3)).toBe(3);
  });

  it("a user may not set a cap above the platform's default, nor fractions of a cent", async () => {
    const { userId } = await seedUserWithBox(deps.db);
    const above = await setUserBudget({ deps, userId, monthlyUsd: PLATFORM_DEFAULT_USD + 1 }).catch(
      (err) => err,
    );
    expect(above).toBeInstanceOf(ServiceError);
    expect((above as ServiceError).code).toBe("BAD_REQUEST");
    expect((above as ServiceError).message).toContain("at most the platform's limit of $50.00");
    const fraction = await setUserBudget({ deps, userId, monthlyUsd: 1.005 }).catch((err) => err);
    expect((fraction as ServiceError).message).toContain("whole cents");

    const set = await setUserBudget({ deps, userId, monthlyUsd: 12.5 });
    expect(set).toMatchObject({
      monthlyUsd: 12.5,
      defaultMonthlyUsd: PLATFORM_DEFAULT_USD,
      effectiveMonthlyUsd: 12.5,
    });
    const cleared = await setUserBudget({ deps, userId, monthlyUsd: null });
    expect(cleared).toMatchObject({ monthlyUsd: null, effectiveMonthlyUsd: PLATFORM_DEFAULT_USD });
  });

  it("formats the refusal as Claude shows it", () => {
    const cap = { scope: "user" as const, capUsd: 5, spentUsd: 4.98, boxName: null, platformLimit: false };
    expect(budgetReachedMessage(cap)).toBe(
      "monthly budget reached: $4.98 of $5.00; raise it in Settings → Usage",
    );
    expect(budgetReachedMessage({ ...cap, scope: "box:box_1", boxName: "Mailer" })).toBe(
      'monthly budget of box "Mailer" reached: $4.98 of $5.00; raise it in Settings → Usage',
    );
    expect(budgetReachedMessage({ ...cap, platformLimit: true })).toContain("ask the platform's operator");
    expect(formatUsd(0.0037)).toBe("$0.0037");
    expect(formatUsd(0)).toBe("$0.00");
  });
});

describe("admitSpend", () => {
  it("refuses once the user's spend reaches their cap, and admits again when the cap is raised", async () => {
    const { userId, box: target } = await seedUserWithBox(deps.db);
    await addSpend(deps.db, target, 4.98);
    await setUserBudget({ deps, userId, monthlyUsd: 10 });
    expect(await admitSpend({ deps, target })).toBeNull();

    await setUserBudget({ deps, userId, monthlyUsd: 4.5 });
    const refused = await admitSpend({ deps, target });
    expect(refused?.message).toBe("monthly budget reached: $4.98 of $4.50; raise it in Settings → Usage");

    await setUserBudget({ deps, userId, monthlyUsd: 5 });
    expect(await admitSpend({ deps, target })).toBeNull();
  });

  it("a box's cap stops that box only", async () => {
    const { userId, box: capped } = await seedUserWithBox(deps.db, { boxName: "Capped" });
    const [other] = await deps.db
      .insert(box)
      .values({ ...capped, id: `${capped.id}o`, name: "Other", subdomain: `${capped.subdomain}o` })
      .returning();
    if (!other) {
      throw new Error("other box not inserted");
    }
    await addSpend(deps.db, capped, 1);
    await addSpend(deps.db, other, 1);
    const set = await setBoxBudget({ deps, target: capped, monthlyUsd: 1 });
    expect(set).toMatchObject({ boxId: capped.id, monthlyUsd: 1, spentUsd: 1 });

    expect((await admitSpend({ deps, target: capped }))?.message).toBe(
      'monthly budget of box "Capped" reached: $1.00 of $1.00; raise it in Settings → Usage',
    );
    expect(await admitSpend({ deps, target: other })).toBeNull();
    expect((await getUserBudget({ deps, userId })).spentUsd).toBeCloseTo(2, 6);
  });

  it("the platform's default applies to a user who set nothing, and says who can raise it", async () => {
    const { box: target } = await seedUserWithBox(deps.db);
    await addSpend(deps.db, target, PLATFORM_DEFAULT_USD);
    expect((await admitSpend({ deps, target }))?.message).toBe(
      "monthly budget reached: $50.00 of $50.00 (the platform's limit); ask the platform's operator to raise it",
    );
  });
});

describe("alerts", () => {
  it("80 % and 100 % each send one email from the platform's address, however often they are crossed", async () => {
    const { userId, box: target } = await seedUserWithBox(deps.db, { boxName: "Alerted" });
    await setUserBudget({ deps, userId, monthlyUsd: 10 });
    await addSpend(deps.db, target, 7.9);
    await checkBudgetAlerts({ deps, userId, boxIds: [target.id] });
    expect(await deps.db.select().from(budgetAlert).where(eq(budgetAlert.userId, userId))).toEqual([]);

    await addSpend(deps.db, target, 0.2);
    // Several processes' worth of checks at once: the unique index lets one insert win.
    await Promise.all(
      Array.from({ length: 5 }, () => checkBudgetAlerts({ deps, userId, boxIds: [target.id] })),
    );
    await addSpend(deps.db, target, 2);
    await Promise.all([
      checkBudgetAlerts({ deps, userId, boxIds: [target.id] }),
      admitSpend({ deps, target }),
      checkBudgetAlerts({ deps, userId, boxIds: [target.id] }),
    ]);

    const mine = await waitFor(
      async () => (await outboxEntries()).filter((entry) => entry.to.includes(`${userId}@example.com`)),
      (entries) => entries.length >= 2,
      { timeout: 60_000, what: "two budget alert emails in the outbox" },
    );
    const alerts = await deps.db.select().from(budgetAlert).where(eq(budgetAlert.userId, userId));
    expect(alerts.map((alert) => alert.threshold).sort((a, b) => a - b)).toEqual([80, 100]);
    expect(alerts.every((alert) => alert.scope === "user" && alert.period === monthPeriod(new Date()))).toBe(
      true,
    );

    // More checks after both were sent add nothing.
    await checkBudgetAlerts({ deps, userId, boxIds: [target.id] });
    await admitSpend({ deps, target });
    expect(await deps.db.select().from(budgetAlert).where(eq(budgetAlert.userId, userId))).toHaveLength(2);

    expect(mine).toHaveLength(2);
    expect(mine.every((entry) => entry.from === "Platform <billing@example.test>")).toBe(true);
    const subjects = mine.map((entry) => entry.subject).sort();
    expect(subjects[0]).toBe("80% of your monthly budget used: $8.10 of $10.00");
    expect(subjects[1]).toBe("Monthly budget reached: $10.10 of $10.00");

    const budget = await getUserBudget({ deps, userId });
    expect(budget.alerts.map((alert) => alert.threshold)).toEqual([80, 100]);
  });

  it("spend committed without any later request still alerts (the ledger writer's check)", async () => {
    const { userId, box: target } = await seedUserWithBox(deps.db);
    await setUserBudget({ deps, userId, monthlyUsd: 1 });
    await addSpend(deps.db, target, 0.85);
    alertAfterSpend(deps, [{ userId, boxId: target.id }]);
    const alerts = await waitFor(
      () => deps.db.select().from(budgetAlert).where(eq(budgetAlert.userId, userId)),
      (rows) => rows.length > 0,
      { timeout: 30_000, what: "the 80 % alert" },
    );
    expect(
      alerts.map(({ scope, threshold, spentUsd, capUsd }) => ({ scope, threshold, spentUsd, capUsd })),
    ).toEqual([{ scope: "user", threshold: 80, spentUsd: 0.85, capUsd: 1 }]);
  });

  it("a box's cap alerts under its own scope", async () => {
    const { userId, box: target } = await seedUserWithBox(deps.db, { boxName: "Boxed" });
    await setBoxBudget({ deps, target, monthlyUsd: 2 });
    await addSpend(deps.db, target, 1.7);
    await checkBudgetAlerts({ deps, userId, boxIds: [target.id] });
    const alerts = await deps.db.select().from(budgetAlert).where(eq(budgetAlert.userId, userId));
    expect(alerts.map(({ scope, threshold }) => ({ scope, threshold }))).toEqual([
      { scope: `box:${target.id}`, threshold: 80 },
    ]);
    const [mail] = await waitFor(
      async () => (await outboxEntries()).filter((entry) => entry.to.includes(`${userId}@example.com`)),
      (entries) => entries.length >= 1,
      { timeout: 60_000, what: "the box's alert email" },
    );
    expect(mail?.subject).toBe('80% of the monthly budget of your box "Boxed" used: $1.70 of $2.00');
  });
});

describe("admitModelRequest and unpriced models", () => {
  it("refuses a model the price table does not know while a cap applies (its spend would count toward none)", async () => {
    const { admitModelRequest } = await import("../model-gateway/admit-model-request");
    const { box: target } = await seedUserWithBox(deps.db, { boxName: "Unpriced" });
    // The platform default (a cap) applies to every user here.
    const refused = await admitModelRequest({
      deps,
      box: target,
      keySource: "platform",
      model: "claude-unknown-9",
    });
    expect(refused?.status).toBe(402);
    expect(refused?.message).toContain("'claude-unknown-9' has no price");
    const priced = await admitModelRequest({
      deps,
      box: target,
      keySource: "platform",
      model: "claude-sonnet-4-5",
    });
    expect(priced).toBeNull();
  });
});
