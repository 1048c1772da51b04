import { type Database, usageDaily } from "@vps-claude/db";
import { and, eq, gte, lt, sql } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { PerDatabaseCache } from "./per-database-cache";

/** How long a process reuses a user's month spend by default (see `MoneyConfig.spendCacheMs`). */
export const DEFAULT_SPEND_CACHE_MS = 2_000;

/** `YYYY-MM` of the UTC month `at` is in: a budget's period. */
export function monthPeriod(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** The UTC month's first day and the next month's first day (`YYYY-MM-DD`), as `usage_daily.day` holds them. */
export function monthDays(at: Date): { first: string; next: string } {
  const first = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const next = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  return { first: first.toISOString().slice(0, 10), next: next.toISOString().slice(0, 10) };
}

/** A user's known spend in one UTC month: in all, and per box (deleted boxes included). */
export interface MonthSpendSnapshot {
  period: string;
  totalUsd: number;
  byBox: ReadonlyMap<string, number>;
}

const snapshots = new PerDatabaseCache<MonthSpendSnapshot>();

async function loadMonthSpend(db: Database, userId: string, at: Date): Promise<MonthSpendSnapshot> {
  const { first, next } = monthDays(at);
  const rows = await db
    .select({
      boxId: usageDaily.boxId,
      costUsd: sql<number>`coalesce(sum(${usageDaily.costUsd}), 0)::float8`.mapWith(Number),
    })
    .from(usageDaily)
    .where(and(eq(usageDaily.userId, userId), gte(usageDaily.day, first), lt(usageDaily.day, next)))
    .groupBy(usageDaily.boxId);
  return {
    period: monthPeriod(at),
    totalUsd: rows.reduce((sum, row) => sum + row.costUsd, 0),
    byBox: new Map(rows.map((row) => [row.boxId, row.costUsd])),
  };
}

/**
 * A user's spend this UTC month from the `usage_daily` rollup (known cost only: entries without a
 * price add nothing). One query per user per `spendCacheMs` however many requests ask, so the
 * gateway does not query per request; `maxAgeMs: 0` reads afresh (after a ledger write, for alerts).
 */
export function monthSpendSnapshot({
  deps,
  userId,
  now = new Date(),
  maxAgeMs = deps.config.money.spendCacheMs,
}: {
  deps: Pick<ApiDeps, "db" | "config">;
  userId: string;
  now?: Date;
  maxAgeMs?: number;
}): Promise<MonthSpendSnapshot> {
  return snapshots.get(deps.db, `${userId}\u0000${monthPeriod(now)}`, maxAgeMs, () =>
    loadMonthSpend(deps.db, userId, now),
  );
}

/** This UTC month's known spend of a user, or of one of their boxes (USD). */
export async function monthSpend({
  deps,
  userId,
  boxId,
  now,
  maxAgeMs,
}: {
  deps: Pick<ApiDeps, "db" | "config">;
  userId: string;
  boxId?: string;
  now?: Date;
  maxAgeMs?: number;
}): Promise<number> {
  const snapshot = await monthSpendSnapshot({ deps, userId, now, maxAgeMs });
  return boxId === undefined ? snapshot.totalUsd : (snapshot.byBox.get(boxId) ?? 0);
}
