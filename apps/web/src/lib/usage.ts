import type { BoxBudget, Run, RunPage, RunTrigger, UsageRow, UserBudget } from "./usage-api";

export interface DayRange {
  /** First and last UTC day included, `YYYY-MM-DD`. */
  from: string;
  to: string;
}

export const USAGE_PERIODS = ["this-month", "last-month", "last-30-days"] as const;
export type UsagePeriod = (typeof USAGE_PERIODS)[number];

export const PERIOD_LABELS: Record<UsagePeriod, string> = {
  "this-month": "This month",
  "last-month": "Last month",
  "last-30-days": "Last 30 days",
};

const DAY_MS = 86_400_000;

export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/** The ledger's days are UTC days, and so are budget months: a period is reckoned in UTC too. */
export function periodRange(period: UsagePeriod, now: Date): DayRange {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  switch (period) {
    case "this-month":
      return { from: utcDay(new Date(Date.UTC(year, month, 1))), to: utcDay(now) };
    case "last-month":
      return {
        from: utcDay(new Date(Date.UTC(year, month - 1, 1))),
        to: utcDay(new Date(Date.UTC(year, month, 0))),
      };
    case "last-30-days":
      return { from: utcDay(new Date(now.getTime() - 29 * DAY_MS)), to: utcDay(now) };
  }
}

/** Every day from `from` to `to`, both included; at most `limit`, so a bad range cannot run away. */
export function daysInRange({ from, to }: DayRange, limit = 400): string[] {
  const days: string[] = [];
  const end = dayStart(to);
  for (let at = dayStart(from); at <= end && days.length < limit; at += DAY_MS) {
    days.push(utcDay(new Date(at)));
  }
  return days;
}

/** Whether an instant lies in the range's days (UTC). */
export function isInRange(iso: string, { from, to }: DayRange): boolean {
  const at = Date.parse(iso);
  return at >= dayStart(from) && at < dayStart(to) + DAY_MS;
}

/** Sums of ledger costs (6 decimals) without the float dust that `0.1 + 0.2` leaves. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/** "$4.98", "$1,250.00": budgets and spend against them, always in cents. */
export function formatUsd(usd: number): string {
  return `$${usd.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function formatCount(value: number): string {
  return value.toLocaleString("en-US");
}

export const TRIGGER_LABELS: Record<RunTrigger, string> = {
  chat: "Chat",
  email: "Email",
  cron: "Cronjobs",
  api: "API",
};

/** A trigger as the ledger has it: null for an entry no run was known for. */
export function triggerLabel(trigger: string | null): string {
  if (trigger === null || trigger === "") {
    return "Outside a run";
  }
  return TRIGGER_LABELS[trigger as RunTrigger] ?? trigger;
}

export const STACK_DIMENSIONS = ["box", "model", "trigger"] as const;
export type StackDimension = (typeof STACK_DIMENSIONS)[number];

export const DIMENSION_LABELS: Record<StackDimension, string> = {
  box: "Box",
  model: "Model",
  trigger: "Trigger",
};

/** Which group of `dimension` a report row belongs to, and what to call it. */
export function groupOf(row: UsageRow, dimension: StackDimension): { key: string; label: string } {
  switch (dimension) {
    case "box":
      return { key: row.boxId ?? "", label: row.boxName ?? row.boxId ?? "No box" };
    case "model":
      return { key: row.model ?? "", label: row.model ?? "No model" };
    case "trigger":
      return { key: row.trigger ?? "", label: triggerLabel(row.trigger) };
  }
}

/** The theme's chart colours (globals.css), distinct in light and dark mode, in the order bars are compared. */
const SERIES_COLORS = [
  "var(--chart-1)",
  "var(--chart-2)",
  "var(--chart-3)",
  "var(--chart-4)",
  "var(--chart-5)",
];
const OTHER_COLOR = "var(--muted-foreground)";

export interface ChartSeries {
  /** The bar's data key in each point (`s0`, `s1`, … or `other`), safe whatever the group's name. */
  key: string;
  label: string;
  color: string;
  costUsd: number;
}

export type ChartPoint = { day: string } & Record<string, number | string>;

export interface StackedChart {
  series: ChartSeries[];
  points: ChartPoint[];
}

/**
 * Turns `groupBy=day,<dimension>` rows into bars per day stacked by group. The costliest groups keep a
 * bar of their own; past `maxSeries` the rest share one ("Other"), so the legend stays readable.
 */
export function buildStackedChart(
  rows: readonly UsageRow[],
  dimension: StackDimension,
  days: readonly string[],
  maxSeries = SERIES_COLORS.length,
): StackedChart {
  const groups = new Map<string, { label: string; costUsd: number; byDay: Map<string, number> }>();
  for (const row of rows) {
    const { key, label } = groupOf(row, dimension);
    const group = groups.get(key) ?? { label, costUsd: 0, byDay: new Map<string, number>() };
    group.costUsd += row.costUsd;
    if (row.day) {
      group.byDay.set(row.day, (group.byDay.get(row.day) ?? 0) + row.costUsd);
    }
    groups.set(key, group);
  }
  const ranked = [...groups.values()].sort((a, b) => b.costUsd - a.costUsd || a.label.localeCompare(b.label));
  const ownBars = ranked.length > maxSeries ? ranked.slice(0, maxSeries - 1) : ranked;
  const rest = ranked.slice(ownBars.length);

  const series: ChartSeries[] = ownBars.map((group, index) => ({
    key: `s${index}`,
    label: group.label,
    color: SERIES_COLORS[index % SERIES_COLORS.length] ?? OTHER_COLOR,
    costUsd: roundUsd(group.costUsd),
  }));
  if (rest.length > 0) {
    series.push({
      key: "other",
      label: `Other (${rest.length})`,
      color: OTHER_COLOR,
      costUsd: roundUsd(rest.reduce((sum, group) => sum + group.costUsd, 0)),
    });
  }

  const points = days.map((day) => {
    const point: ChartPoint = { day };
    ownBars.forEach((group, index) => {
      point[`s${index}`] = roundUsd(group.byDay.get(day) ?? 0);
    });
    if (rest.length > 0) {
      point.other = roundUsd(rest.reduce((sum, group) => sum + (group.byDay.get(day) ?? 0), 0));
    }
    return point;
  });
  return { series, points };
}

export type BannerLevel = "warning" | "reached";

export interface BudgetBannerState {
  level: BannerLevel;
  spentUsd: number;
  capUsd: number;
}

/** What the banner needs of an alert sent this period. */
export interface SentAlert {
  threshold: number;
  capUsd: number;
}

/**
 * What the banner says about one cap. It shows only after an alert was sent this period (80 or 100 %),
 * with today's numbers. The server decides "reached" (it refuses the request that would cross the cap,
 * so $4.98 of $5.00 can be reached); that holds until the cap is raised above the one it was reached at.
 */
export function bannerFor(
  spentUsd: number,
  capUsd: number | null,
  alerts: readonly SentAlert[],
): BudgetBannerState | null {
  if (alerts.length === 0 || capUsd === null) {
    return null;
  }
  const reachedAtThisCap = alerts.some((alert) => alert.threshold >= 100 && capUsd <= alert.capUsd);
  if (reachedAtThisCap || spentUsd >= capUsd) {
    return { level: "reached", spentUsd, capUsd };
  }
  return spentUsd >= capUsd * 0.8 ? { level: "warning", spentUsd, capUsd } : null;
}

export function userBudgetBanner(budget: UserBudget): BudgetBannerState | null {
  const alerts = budget.alerts.filter((alert) => alert.scope === "user");
  return bannerFor(budget.spentUsd, budget.effectiveMonthlyUsd, alerts);
}

export function boxBudgetBanner(budget: BoxBudget, alerts: readonly SentAlert[]): BudgetBannerState | null {
  return bannerFor(budget.spentUsd, budget.monthlyUsd, alerts);
}

const BOX_SCOPE = "box:";

/** The scope a box's cap has in `budget_alert`. */
export function boxScope(boxId: string): string {
  return `${BOX_SCOPE}${boxId}`;
}

/** The boxes with a budget alert this period (`box:<id>` scopes), each once. */
export function alertedBoxIds(budget: UserBudget): string[] {
  const ids = budget.alerts
    .filter((alert) => alert.scope.startsWith(BOX_SCOPE))
    .map((alert) => alert.scope.slice(BOX_SCOPE.length))
    .filter((id) => id !== "");
  return [...new Set(ids)];
}

export type BudgetAmount = { ok: true; value: number | null } | { ok: false; message: string };

/**
 * The amount typed into a budget field: empty means no cap. Only the form is checked here; the range
 * (0 to $1,000,000, no more than the platform's default) is the server's to say, by the field.
 */
export function parseBudgetAmount(text: string): BudgetAmount {
  const cleaned = text.trim().replace(/^\$/, "").replace(/,/g, "").trim();
  if (cleaned === "") {
    return { ok: true, value: null };
  }
  if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) {
    return {
      ok: false,
      message: `"${text.trim()}" is not an amount: enter US dollars like 25 or 12.50, or leave it empty for no cap.`,
    };
  }
  return { ok: true, value: Number(cleaned) };
}

export function budgetInputText(monthlyUsd: number | null): string {
  return monthlyUsd === null ? "" : monthlyUsd.toFixed(2);
}

export interface CronjobCost {
  cronjobId: string;
  runs: number;
  /** Sum of the runs' own costs; runs without one (still going, or never priced) are in `unpricedRuns`. */
  costUsd: number;
  unpricedRuns: number;
}

export interface CronRunsInRange {
  costs: CronjobCost[];
  /** False when the page limit stopped the walk before the range's first day: the sums are a lower bound. */
  complete: boolean;
}

export const CRON_RUN_MAX_PAGES = 5;

/**
 * Walks a box's cron runs (newest first) back to the range's first day and sums them per cronjob.
 * At most `maxPages` pages: a cronjob every minute makes 40,000 runs a month, and this is a summary.
 */
export async function sumCronRuns(
  fetchPage: (cursor: string | undefined) => Promise<RunPage>,
  range: DayRange,
  maxPages = CRON_RUN_MAX_PAGES,
): Promise<CronRunsInRange> {
  const byCronjob = new Map<string, CronjobCost>();
  const add = (run: Run) => {
    const cronjobId = run.cronjobId ?? run.contextId;
    const cost = byCronjob.get(cronjobId) ?? { cronjobId, runs: 0, costUsd: 0, unpricedRuns: 0 };
    cost.runs += 1;
    if (run.costUsd === null) {
      cost.unpricedRuns += 1;
    } else {
      cost.costUsd = roundUsd(cost.costUsd + run.costUsd);
    }
    byCronjob.set(cronjobId, cost);
  };
  const firstInstant = dayStart(range.from);
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const { runs, nextCursor } = await fetchPage(cursor);
    for (const run of runs) {
      if (run.trigger === "cron" && isInRange(run.createdAt, range)) {
        add(run);
      }
    }
    const oldest = runs.at(-1);
    if (!nextCursor || !oldest || Date.parse(oldest.createdAt) < firstInstant) {
      return { costs: [...byCronjob.values()], complete: true };
    }
    cursor = nextCursor;
  }
  return { costs: [...byCronjob.values()], complete: false };
}
