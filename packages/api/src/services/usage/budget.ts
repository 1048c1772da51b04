import { box, userBudget } from "@vps-claude/db";
import { and, eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { notFound, ServiceError } from "../../errors";
import { listBudgetAlerts, recordBudgetAlerts } from "./budget-alerts";
import { monthPeriod, monthSpend, monthSpendSnapshot } from "./month-spend";
import {
  budgetReachedMessage,
  effectiveUserCap,
  forgetStoredCaps,
  formatUsd,
  type SpendCap,
  spendCaps,
  storedCapsOf,
} from "./spend-caps";

type BoxRow = typeof box.$inferSelect;

/** A cap is stored in cents (`numeric(12,2)`): a finer amount would be rounded silently, so it is refused. */
function assertWholeCents(monthlyUsd: number | null): void {
  if (monthlyUsd !== null && Math.abs(monthlyUsd * 100 - Math.round(monthlyUsd * 100)) > 1e-6) {
    throw new ServiceError(
      "BAD_REQUEST",
      `monthlyUsd ${monthlyUsd} has fractions of a cent; give whole cents (e.g. ${monthlyUsd.toFixed(2)})`,
    );
  }
}

/** A user's budget as `GET /rpc/budget` shows it: their cap, the platform's, this month's spend and alerts. */
export async function getUserBudget({ deps, userId }: { deps: ApiDeps; userId: string }) {
  const now = new Date();
  // Fresh: the owner looking at their budget sees what is in Postgres now, not this process's cache.
  const [spend, stored] = await Promise.all([
    monthSpendSnapshot({ deps, userId, now, maxAgeMs: 0 }),
    storedCapsOf({ deps, userId, maxAgeMs: 0 }),
  ]);
  const defaultMonthlyUsd = deps.config.money.defaultMonthlyBudgetUsd;
  return {
    monthlyUsd: stored.userUsd,
    defaultMonthlyUsd,
    effectiveMonthlyUsd: effectiveUserCap(defaultMonthlyUsd, stored.userUsd),
    spentUsd: spend.totalUsd,
    period: spend.period,
    alerts: await listBudgetAlerts({ deps, userId, period: spend.period }),
  };
}

/** Sets (or, with null, clears) the user's own monthly cap; it may not exceed the platform's default. */
export async function setUserBudget({
  deps,
  userId,
  monthlyUsd,
}: {
  deps: ApiDeps;
  userId: string;
  monthlyUsd: number | null;
}) {
  assertWholeCents(monthlyUsd);
  const limit = deps.config.money.defaultMonthlyBudgetUsd;
  if (monthlyUsd !== null && limit !== null && monthlyUsd > limit) {
    throw new ServiceError(
      "BAD_REQUEST",
      `a monthly budget may be at most the platform's limit of ${formatUsd(limit)} (DEFAULT_MONTHLY_BUDGET_USD); set ${formatUsd(limit)} or less, or null to use the platform's`,
      { limitUsd: limit },
    );
  }
  await deps.db
    .insert(userBudget)
    .values({ userId, monthlyUsd })
    .onConflictDoUpdate({ target: userBudget.userId, set: { monthlyUsd, updatedAt: new Date() } });
  forgetStoredCaps(deps, userId);
  return getUserBudget({ deps, userId });
}

/** A box's own cap and this month's spend (`GET /rpc/box/{boxId}/budget`); the box is the caller's. */
export async function getBoxBudget({ deps, target }: { deps: ApiDeps; target: BoxRow }) {
  const now = new Date();
  return {
    boxId: target.id,
    monthlyUsd: target.monthlyBudgetUsd,
    spentUsd: await monthSpend({ deps, userId: target.userId, boxId: target.id, now, maxAgeMs: 0 }),
    period: monthPeriod(now),
  };
}

/** Sets (or, with null, clears) a box's own monthly cap, on top of the user's. */
export async function setBoxBudget({
  deps,
  target,
  monthlyUsd,
}: {
  deps: ApiDeps;
  target: BoxRow;
  monthlyUsd: number | null;
}) {
  assertWholeCents(monthlyUsd);
  const [updated] = await deps.db
    .update(box)
    .set({ monthlyBudgetUsd: monthlyUsd, updatedAt: new Date() })
    .where(and(eq(box.id, target.id), eq(box.userId, target.userId)))
    .returning();
  if (!updated) {
    throw notFound("box", target.id);
  }
  forgetStoredCaps(deps, target.userId);
  return getBoxBudget({ deps, target: updated });
}

/** Why spend was refused: the cap reached, and the message Claude and the run record show. */
export interface SpendRefusal {
  cap: SpendCap;
  message: string;
}

/**
 * The budget gate, before a model request or media call is forwarded: refused once this month's
 * spend has reached the user's cap or the box's. Spend and caps come from a per-process cache at
 * most `spendCacheMs` old, so a request or two may pass just after a cap is crossed; never one after
 * a cap set through this process. Alerts a crossed threshold on the way (without delaying the answer).
 */
export async function admitSpend({
  deps,
  target,
}: {
  deps: Pick<ApiDeps, "db" | "queues" | "config" | "logger">;
  target: Pick<BoxRow, "id" | "userId">;
}): Promise<SpendRefusal | null> {
  const { period, caps } = await spendCaps({ deps, userId: target.userId, boxIds: [target.id] });
  if (caps.length === 0) {
    return null;
  }
  // A cap lowered below the spend is crossed without any new spend: the gate is where that shows.
  recordBudgetAlerts({ deps, userId: target.userId, period, caps }).catch((err: unknown) => {
    deps.logger.warn(
      { err, userId: target.userId },
      "budget alerts could not be recorded; the next request retries",
    );
  });
  const reached = caps.find((cap) => cap.spentUsd >= cap.capUsd);
  return reached ? { cap: reached, message: budgetReachedMessage(reached) } : null;
}

/** {@link admitSpend} as a 402 for the box API's routes (the media calls). */
export async function assertSpendAdmitted(input: Parameters<typeof admitSpend>[0]): Promise<void> {
  const refusal = await admitSpend(input);
  if (refusal) {
    throw new ServiceError("PAYMENT_REQUIRED", refusal.message, {
      scope: refusal.cap.scope,
      spentUsd: refusal.cap.spentUsd,
      capUsd: refusal.cap.capUsd,
    });
  }
}
