import { randomBytes } from "node:crypto";
import path from "node:path";
import { checkBudgetAlerts, type LedgerEntryInput, recordLedgerEntries } from "@vps-claude/api";
import { box, boxCronjob, boxRun, type Database } from "@vps-claude/db";
import { generateSubdomain, newId } from "@vps-claude/shared";
import type { Platform } from "@vps-claude/testing/platform";
import type { APIRequestContext, Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BoxBudget, UsageReport, UserBudget } from "../src/lib/usage-api";
import {
  type BrowserStack,
  checkA11y,
  DESKTOP,
  expectNoHorizontalOverflow,
  PHONE,
  startBrowserStack,
} from "./browser-harness";

/** Set to a directory to keep a screenshot of each step (useful when this test fails). */
const screenshotDir = process.env.WEB_TEST_SCREENSHOTS;

let platform: Platform | undefined;
let stack: BrowserStack | undefined;
let browser: Browser | undefined;
let webUrl = "";

beforeAll(async () => {
  // The whole API in this process (no sandbox host: boxes are rows here, and their usage is seeded).
  stack = await startBrowserStack({ label: "usage_web" });
  ({ platform, browser, webUrl } = stack);
}, 240_000);

afterAll(async () => {
  await stack?.close();
}, 60_000);

async function snap(page: Page, name: string): Promise<void> {
  if (screenshotDir) {
    await page.screenshot({ path: path.join(screenshotDir, `usage-${name}.png`), fullPage: true });
  }
}

function requirePlatform(): Platform {
  if (!platform) {
    throw new Error("the platform did not start");
  }
  return platform;
}

async function openPage(viewport: { width: number; height: number } = DESKTOP): Promise<Page> {
  if (!browser) {
    throw new Error("the browser did not start");
  }
  const context = await browser.newContext({ viewport });
  return context.newPage();
}

async function signUp(page: Page): Promise<string> {
  await page.goto(`${webUrl}/sign-up`);
  await page.getByLabel("Name").fill("Uma Usage");
  await page.getByLabel("Email").fill(`uma-${randomBytes(4).toString("hex")}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${webUrl}/`);
  const session = await getJson<{ user: { id: string } }>(page.request, "/api/auth/get-session");
  return session.user.id;
}

/** The API as the page sees it: through the dashboard's proxy, with the browser's cookie. */
async function getJson<T>(request: APIRequestContext, pathname: string): Promise<T> {
  const response = await request.get(`${webUrl}${pathname}`);
  const text = await response.text();
  expect(response.status(), `${pathname}: ${text}`).toBe(200);
  return JSON.parse(text) as T;
}

const TOKENS = { inputTokens: 1234, outputTokens: 567, cacheReadTokens: 89, cacheWriteTokens: 0 };

interface Seeded {
  alpha: { id: string; name: string };
  beta: { id: string; name: string };
  goneBoxId: string;
  cronjobId: string;
  cronjobName: string;
}

/**
 * Two boxes with runs of every trigger, a cronjob with two runs, a media call, an unpriced model and
 * a deleted box's spend, written through the platform's own ledger writer (entries and rollup).
 */
async function seedUsage(db: Database, userId: string): Promise<Seeded> {
  const now = Date.now();
  const today = new Date(now);
  const monthStart = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1);
  // Both inside this month (UTC), even on its first minutes.
  const early = new Date(monthStart + Math.min(30 * 60_000, (now - monthStart) / 2));
  const late = new Date(now - Math.min(60_000, (now - monthStart) / 4));

  const [alpha, beta] = await db
    .insert(box)
    .values(
      ["Alpha", "Beta"].map((name) => ({
        id: newId("box"),
        userId,
        name,
        subdomain: generateSubdomain(name),
        status: "running" as const,
      })),
    )
    .returning();
  if (!alpha || !beta) {
    throw new Error("inserting the boxes returned no rows");
  }
  const cronjobId = newId("cronjob");
  const cronjobName = "Morning digest";
  await db.insert(boxCronjob).values({
    id: cronjobId,
    boxId: alpha.id,
    name: cronjobName,
    schedule: "0 7 * * *",
    prompt: "Summarise the inbox.",
  });

  const run = (
    owner: { id: string },
    trigger: "chat" | "email" | "cron",
    costUsd: number,
    createdAt: Date,
  ) => ({
    id: newId("run"),
    boxId: owner.id,
    userId,
    trigger,
    contextType: trigger === "chat" ? "session" : trigger,
    contextId: trigger === "cron" ? cronjobId : newId("run"),
    cronjobId: trigger === "cron" ? cronjobId : null,
    status: "completed" as const,
    prompt: `a ${trigger} run`,
    dispatch: {},
    maxDurationMs: 60_000,
    costUsd,
    createdAt,
    completedAt: createdAt,
  });
  // Run costs are `real`: amounts a float4 holds exactly.
  const chatRun = run(alpha, "chat", 0.125, late);
  const cronRuns = [run(alpha, "cron", 0.25, early), run(alpha, "cron", 0.5, late)];
  const emailRun = run(beta, "email", 0.0625, late);
  await db.insert(boxRun).values([chatRun, ...cronRuns, emailRun]);

  const goneBoxId = newId("box");
  const entry = (
    owner: { id: string; name: string },
    runId: string | null,
    model: string,
    costUsd: number | null,
    createdAt: Date,
  ): LedgerEntryInput => ({
    userId,
    boxId: owner.id,
    boxName: owner.name,
    claimedRunId: runId,
    kind: "model",
    provider: "anthropic",
    model,
    capability: null,
    tokens: TOKENS,
    costUsd,
    priceVersion: "test",
    sourceId: newId("modelRequest"),
    createdAt,
  });
  await recordLedgerEntries(db, [
    entry(alpha, chatRun.id, "claude-sonnet-4-5", 0.125, late),
    entry(alpha, cronRuns[0]?.id ?? null, "claude-sonnet-4-5", 0.25, early),
    entry(alpha, cronRuns[1]?.id ?? null, "claude-haiku-4-5", 0.5, late),
    entry(beta, emailRun.id, "claude-haiku-4-5", 0.0625, late),
    entry(beta, null, "claude-mystery-9", null, late),
    entry({ id: goneBoxId, name: "Gone" }, null, "claude-sonnet-4-5", 0.2, early),
    {
      userId,
      boxId: beta.id,
      boxName: beta.name,
      claimedRunId: null,
      kind: "media",
      provider: "fal",
      model: "fal-ai/flux/schnell",
      capability: "image",
      units: 1,
      unit: "image",
      costUsd: 0.04,
      priceVersion: "test",
      sourceId: newId("aiUsage"),
      createdAt: late,
    },
  ]);
  return {
    alpha: { id: alpha.id, name: alpha.name },
    beta: { id: beta.id, name: beta.name },
    goneBoxId,
    cronjobId,
    cronjobName,
  };
}

const KNOWN_COST_USD = 0.125 + 0.25 + 0.5 + 0.0625 + 0.2 + 0.04;
const MODEL_ENTRIES = 6;

/** "$1.18": the page's budget amounts. */
const usd = (value: number) =>
  `$${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

async function numberOf(cell: Locator): Promise<number> {
  return Number(await cell.getAttribute("data-value"));
}

/** Each table row's cost by its key, as the page shows it (exact, from `data-value`). */
async function costsByKey(table: Locator): Promise<Map<string, number>> {
  const costs = new Map<string, number>();
  for (const row of await table.locator("tbody tr").all()) {
    costs.set(String(await row.getAttribute("data-key")), await numberOf(row.locator('[data-cell="cost"]')));
  }
  return costs;
}

function apiCostsBy(report: UsageReport, key: "boxId" | "trigger"): Map<string, number> {
  return new Map(report.rows.map((row) => [row[key] ?? "", row.costUsd]));
}

describe("the Usage page in a browser", () => {
  it("charts the ledger, matches the API, sets budgets, shows the banner, and fits a phone", async () => {
    const { deps } = requirePlatform();
    const page = await openPage();
    const userId = await signUp(page);
    const seeded = await seedUsage(deps.db, userId);

    await page.getByRole("link", { name: "Usage" }).click();
    await page.waitForURL(`${webUrl}/settings/usage`);
    const chart = page.getByTestId("usage-chart");
    await chart.locator("svg .recharts-bar-rectangle").first().waitFor();
    await page.getByTestId("usage-cronjob-row").first().waitFor();
    await page.getByTestId("box-budget-input").first().waitFor();
    await checkA11y(page);
    await snap(page, "01-page");

    const api = page.request;
    const [budget, perDay, perBox, perTrigger] = await Promise.all([
      getJson<UserBudget>(api, "/rpc/budget"),
      getJson<UsageReport>(api, "/rpc/usage?groupBy=day,box"),
      getJson<UsageReport>(api, "/rpc/usage?groupBy=box"),
      getJson<UsageReport>(api, "/rpc/usage?groupBy=trigger"),
    ]);
    // The API reports what was seeded: the page is then checked against the API.
    expect(perDay.totals).toMatchObject({
      inputTokens: TOKENS.inputTokens * MODEL_ENTRIES,
      outputTokens: TOKENS.outputTokens * MODEL_ENTRIES,
      cacheReadTokens: TOKENS.cacheReadTokens * MODEL_ENTRIES,
      mediaCalls: 1,
      unpricedEntries: 1,
    });
    expect(perDay.totals.costUsd).toBeCloseTo(KNOWN_COST_USD, 6);
    expect(budget.spentUsd).toBeCloseTo(KNOWN_COST_USD, 6);

    // The budget was cached before the seeding (the banner reads it on every page); the page reads it again.
    const spent = page.getByTestId("spend-spent");
    await expect.poll(() => numberOf(spent)).toBe(budget.spentUsd);
    expect(await spent.textContent()).toBe(usd(budget.spentUsd));
    expect(await page.getByTestId("spend-cap").textContent()).toBe("no cap");

    const totals = page.getByTestId("usage-totals");
    for (const [name, value] of [
      ["cost", perDay.totals.costUsd],
      ["input", perDay.totals.inputTokens],
      ["output", perDay.totals.outputTokens],
      ["cache-read", perDay.totals.cacheReadTokens],
      ["cache-write", perDay.totals.cacheWriteTokens],
      ["media", perDay.totals.mediaCalls],
      ["requests", perDay.totals.modelRequests],
    ] as const) {
      expect(await numberOf(totals.locator(`[data-total="${name}"]`)), name).toBe(value);
    }
    expect(await page.getByTestId("usage-unpriced").textContent()).toMatch(/^1 entry has no known price/);

    // The chart: a bar per box and day with spend, and its table adds up to the API's total.
    const bars = await chart.locator("svg .recharts-bar-rectangle").count();
    expect(bars).toBeGreaterThanOrEqual(new Set(perDay.rows.map((row) => `${row.day}/${row.boxId}`)).size);
    const dayTotals = await chart.locator('[data-testid="usage-chart-table"] [data-cell="total"]').all();
    let chartSum = 0;
    for (const cell of dayTotals) {
      chartSum += await numberOf(cell);
    }
    expect(chartSum).toBeCloseTo(perDay.totals.costUsd, 6);
    expect(await chart.locator(".recharts-legend-item-text").allTextContents()).toEqual(
      expect.arrayContaining(["Alpha", "Beta", "Gone"]),
    );

    const boxTable = page.getByTestId("usage-box-table");
    expect(await costsByKey(boxTable)).toEqual(apiCostsBy(perBox, "boxId"));
    expect(await boxTable.locator(`tr[data-key="${seeded.goneBoxId}"]`).textContent()).toContain(
      "Gone (deleted)",
    );
    expect(
      await boxTable
        .locator(`tr[data-key="${seeded.alpha.id}"] [data-cell="input"]`)
        .getAttribute("data-value"),
    ).toBe(String(TOKENS.inputTokens * 3));

    const triggerTable = page.getByTestId("usage-trigger-table");
    expect(await costsByKey(triggerTable)).toEqual(apiCostsBy(perTrigger, "trigger"));
    expect(await triggerTable.locator('tr[data-key="cron"] th').textContent()).toBe("Cronjobs");

    const cronRow = page.getByTestId("usage-cronjob-row").filter({ hasText: seeded.cronjobName });
    await cronRow.waitFor();
    expect(await numberOf(cronRow.locator('[data-cell="runs"]'))).toBe(2);
    expect(await numberOf(cronRow.locator('[data-cell="cost"]'))).toBe(0.75);
    expect(apiCostsBy(perTrigger, "trigger").get("cron")).toBeCloseTo(0.75, 6);

    await page.getByTestId("usage-dimension").getByRole("button", { name: "By model" }).click();
    await expect
      .poll(() => chart.locator(".recharts-legend-item-text").allTextContents())
      .toEqual(expect.arrayContaining(["claude-sonnet-4-5", "claude-haiku-4-5", "fal-ai/flux/schnell"]));
    await snap(page, "02-by-model");

    // The user's cap: the form's own check, then the server's words by the field, then a saved cap.
    const form = page.getByTestId("budget-form");
    const capInput = form.getByLabel("Your monthly cap (US dollars)");
    await capInput.fill("abc");
    await form.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => form.getByTestId("budget-error").textContent()).toContain("is not an amount");
    expect(await capInput.getAttribute("aria-invalid")).toBe("true");
    await capInput.fill("2000000");
    await form.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(() => form.getByTestId("budget-error").textContent())
      .toBe("a monthly budget is at most $1,000,000");
    await snap(page, "03-budget-error");

    await capInput.fill("0.50");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByTestId("budget-saved").waitFor();
    const capped = await getJson<UserBudget>(api, "/rpc/budget");
    expect(capped).toMatchObject({ monthlyUsd: 0.5, effectiveMonthlyUsd: 0.5 });
    expect(await page.getByTestId("spend-cap").textContent()).toBe("$0.50");

    // A box's own cap, from its row.
    const alphaRow = page.locator(`[data-testid="box-budget-row"][data-box-id="${seeded.alpha.id}"]`);
    await alphaRow.getByLabel(`Monthly cap for ${seeded.alpha.name} (US dollars)`).fill("2");
    await alphaRow.getByRole("button", { name: `Save the cap for ${seeded.alpha.name}` }).click();
    await alphaRow.getByRole("status").waitFor();
    const alphaBudget = await getJson<BoxBudget>(api, `/rpc/box/${seeded.alpha.id}/budget`);
    expect(alphaBudget.monthlyUsd).toBe(2);
    expect(await numberOf(alphaRow.locator('[data-cell="spent"]'))).toBe(alphaBudget.spentUsd);
    await snap(page, "04-budgets-saved");

    // Spend is over the new cap: the platform's own check records the 80 % and 100 % alerts.
    await checkBudgetAlerts({ deps, userId, boxIds: [seeded.alpha.id] });
    const alerted = await getJson<UserBudget>(api, "/rpc/budget");
    expect(alerted.alerts.map((alert) => `${alert.scope}:${alert.threshold}`).sort()).toEqual([
      "user:100",
      "user:80",
    ]);

    await page.getByRole("link", { name: "Boxes" }).first().click();
    await page.waitForURL(`${webUrl}/`);
    const banner = page.getByTestId("budget-banner");
    await expect.poll(() => banner.getAttribute("data-level")).toBe("reached");
    expect(await banner.textContent()).toBe(
      `Monthly budget reached: ${usd(alerted.spentUsd)} of $0.50 — raise it in Settings → Usage.`,
    );
    await snap(page, "05-banner-reached");

    await banner.getByRole("link", { name: "Settings → Usage" }).click();
    await page.waitForURL(`${webUrl}/settings/usage#budget`);
    await checkA11y(page, "(with the budget banner) ");
    await capInput.fill("1.40");
    await form.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => banner.getAttribute("data-level")).toBe("warning");
    expect(await banner.textContent()).toContain(`${usd(alerted.spentUsd)} of $1.40`);
    await capInput.fill("100");
    await form.getByRole("button", { name: "Save" }).click();
    await banner.waitFor({ state: "detached" });

    // A phone: everything fits the width; wide tables scroll inside their own box.
    const phone = await openPage(PHONE);
    await phone.context().addCookies(await page.context().cookies());
    await phone.goto(`${webUrl}/settings/usage`);
    await phone.getByTestId("usage-chart").locator("svg .recharts-bar-rectangle").first().waitFor();
    await phone.getByTestId("usage-cronjob-row").first().waitFor();
    await phone.getByTestId("box-budget-input").first().waitFor();
    await snap(phone, "06-phone");
    await expectNoHorizontalOverflow(phone);
    await checkA11y(phone, "(phone) ");
    const phoneChart = phone.getByTestId("usage-chart");
    await phone.getByTestId("usage-dimension").getByRole("button", { name: "By trigger" }).click();
    await expect
      .poll(() => phoneChart.locator(".recharts-legend-item-text").allTextContents())
      .toEqual(expect.arrayContaining(["Cronjobs", "Chat", "Email"]));
    const phoneForm = phone.getByTestId("budget-form");
    await phoneForm.getByLabel("Your monthly cap (US dollars)").fill("50");
    await phoneForm.getByRole("button", { name: "Save" }).click();
    await phoneForm.getByTestId("budget-saved").waitFor();
    expect((await getJson<UserBudget>(phone.request, "/rpc/budget")).monthlyUsd).toBe(50);
    await expectNoHorizontalOverflow(phone);
    await phone.context().close();
    await page.context().close();
  }, 180_000);
});
