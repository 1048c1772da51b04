import { box, type Database, userBudget } from "@vps-claude/db";
import { and, eq, isNotNull } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { monthPeriod, monthSpendSnapshot } from "./month-spend";
import { PerDatabaseCache } from "./per-database-cache";

/** Which cap: the user's, or one box's (`box:<id>`), as `budget_alert.scope` names it. */
export type BudgetScope = "user" | `box:${string}`;

export const boxScope = (boxId: string): BudgetScope => `box:${boxId}`;

/** A cap that applies now, with this month's spend against it. */
export interface SpendCap {
  scope: BudgetScope;
  capUsd: number;
  spentUsd: number;
  /** The box's name, for a box cap. */
  boxName: string | null;
  /** The user's cap is the platform's default (the user cannot raise it). */
  platformLimit: boolean;
}

/** The caps a user has set, as stored. */
export interface StoredCaps {
  /** `user_budget.monthly_usd`; null: none of their own. */
  userUsd: number | null;
  /** Boxes with a cap of their own. */
  boxes: ReadonlyMap<string, { name: string; capUsd: number }>;
}

const storedCaps = new PerDatabaseCache<StoredCaps>();

async function loadStoredCaps(db: Database, userId: string): Promise<StoredCaps> {
  const [[own], boxes] = await Promise.all([
    db
      .select({ monthlyUsd: userBudget.monthlyUsd })
      .from(userBudget)
      .where(eq(userBudget.userId, userId))
      .limit(1),
    db
      .select({ id: box.id, name: box.name, capUsd: box.monthlyBudgetUsd })
      .from(box)
      .where(and(eq(box.userId, userId), isNotNull(box.monthlyBudgetUsd))),
  ]);
  return {
    userUsd: own?.monthlyUsd ?? null,
    boxes: new Map(
      boxes.flatMap((row) => (row.capUsd === null ? [] : [[row.id, { name: row.name, capUsd: row.capUsd }]])),
    ),
  };
}

/** A user's stored caps, reused for `spendCacheMs` like their spend. */
export function storedCapsOf({
  deps,
  userId,
  maxAgeMs = deps.config.money.spendCacheMs,
}: {
  deps: Pick<ApiDeps, "db" | "config">;
  userId: string;
  maxAgeMs?: number;
}): Promise<StoredCaps> {
  return storedCaps.get(deps.db, userId, maxAgeMs, () => loadStoredCaps(deps.db, userId));
}

/** A cap changed through this process: it applies to the next request, not in `spendCacheMs`. */
export function forgetStoredCaps(deps: Pick<ApiDeps, "db">, userId: string): void {
  storedCaps.forget(deps.db, userId);
}

/** The user's cap that applies: the lower of the platform's default and their own; null: no cap. */
export function effectiveUserCap(defaultUsd: number | null, userUsd: number | null): number | null {
  if (defaultUsd === null) {
    return userUsd;
  }
  return userUsd === null ? defaultUsd : Math.min(defaultUsd, userUsd);
}

/**
 * Every cap that applies to a user's spend now (theirs, and those of `boxIds` that have one), each
 * with this month's spend against it. `fresh` reads spend and caps from Postgres, not the cache.
 * A user without any cap costs no spend query.
 */
export async function spendCaps({
  deps,
  userId,
  boxIds,
  now = new Date(),
  fresh = false,
}: {
  deps: Pick<ApiDeps, "db" | "config">;
  userId: string;
  boxIds: readonly string[];
  now?: Date;
  fresh?: boolean;
}): Promise<{ period: string; caps: SpendCap[] }> {
  const maxAgeMs = fresh ? 0 : undefined;
  const period = monthPeriod(now);
  const defaultUsd = deps.config.money.defaultMonthlyBudgetUsd;
  const stored = await storedCapsOf({ deps, userId, maxAgeMs });
  const userCap = effectiveUserCap(defaultUsd, stored.userUsd);
  const boxCaps = [...new Set(boxIds)].flatMap((boxId) => {
    const own = stored.boxes.get(boxId);
    return own ? [{ boxId, ...own }] : [];
  });
  if (userCap === null && boxCaps.length === 0) {
    return { period, caps: [] };
  }
  const spend = await monthSpendSnapshot({ deps, userId, now, maxAgeMs });
  const caps: SpendCap[] = [];
  if (userCap !== null) {
    caps.push({
      scope: "user",
      capUsd: userCap,
      spentUsd: spend.totalUsd,
      boxName: null,
      platformLimit: defaultUsd !== null && (stored.userUsd === null || defaultUsd <= stored.userUsd),
    });
  }
  for (const own of boxCaps) {
    caps.push({
      scope: boxScope(own.boxId),
      capUsd: own.capUsd,
      spentUsd: spend.byBox.get(own.boxId) ?? 0,
      boxName: own.name,
      platformLimit: false,
    });
  }
  return { period, caps };
}

/** Dollars as a person reads them: cents, or four places below a cent so a small spend is not "$0.00". */
export function formatUsd(value: number): string {
  const places = value !== 0 && Math.abs(value) < 0.01 ? 4 : 2;
  return `$${value.toFixed(places)}`;
}

/**
 * What Claude, the agent's tools and the run record show when a cap stops spend, e.g.
 * `monthly budget reached: $4.98 of $5.00; raise it in Settings → Usage`.
 */
export function budgetReachedMessage(cap: SpendCap): string {
  const amounts = `${formatUsd(cap.spentUsd)} of ${formatUsd(cap.capUsd)}`;
  if (cap.boxName !== null) {
    return `monthly budget of box ${JSON.stringify(cap.boxName)} reached: ${amounts}; raise it in Settings → Usage`;
  }
  if (cap.platformLimit) {
    return `monthly budget reached: ${amounts} (the platform's limit); ask the platform's operator to raise it`;
  }
  return `monthly budget reached: ${amounts}; raise it in Settings → Usage`;
}
