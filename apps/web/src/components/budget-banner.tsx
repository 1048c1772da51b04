"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import { boxesApi } from "@/lib/api-client";
import {
  alertedBoxIds,
  type BudgetBannerState,
  boxBudgetBanner,
  boxScope,
  formatUsd,
  userBudgetBanner,
} from "@/lib/usage";
import { BUDGET_CHANGED_EVENT, budgetApi } from "@/lib/usage-api";

/** A month has at most a few box alerts; past this many the Usage page lists them all anyway. */
const MAX_BOX_BANNERS = 3;
const USAGE_PATH = "/settings/usage";

interface BannerItem {
  key: string;
  state: BudgetBannerState;
  /** null: the user's own monthly cap. */
  box: { id: string; name: string } | null;
}

async function boxBanner(
  boxId: string,
  alerts: { scope: string; threshold: number; capUsd: number }[],
): Promise<BannerItem | null> {
  try {
    const [budget, box] = await Promise.all([budgetApi.getBox(boxId), boxesApi.get(boxId)]);
    const state = boxBudgetBanner(
      budget,
      alerts.filter((alert) => alert.scope === boxScope(boxId)),
    );
    return state ? { key: boxId, state, box: { id: box.id, name: box.name } } : null;
  } catch {
    // A box deleted since its alert has nothing left to raise.
    return null;
  }
}

async function loadBanners(): Promise<BannerItem[]> {
  const budget = await budgetApi.get();
  const own = userBudgetBanner(budget);
  const boxes = await Promise.all(
    alertedBoxIds(budget)
      .slice(0, MAX_BOX_BANNERS)
      .map((boxId) => boxBanner(boxId, budget.alerts)),
  );
  const items: BannerItem[] = own ? [{ key: "user", state: own, box: null }] : [];
  return [...items, ...boxes.filter((item) => item !== null)];
}

function percentOf({ spentUsd, capUsd }: BudgetBannerState): number {
  return capUsd === 0 ? 100 : Math.floor((spentUsd / capUsd) * 100);
}

function BannerText({ item }: { item: BannerItem }) {
  const { state, box } = item;
  const amounts = `${formatUsd(state.spentUsd)} of ${formatUsd(state.capUsd)}`;
  const link = (
    <Link href={box ? `${USAGE_PATH}#box-budget-${encodeURIComponent(box.id)}` : `${USAGE_PATH}#budget`}>
      Settings → Usage
    </Link>
  );
  if (box) {
    return state.level === "reached" ? (
      <>
        Box <strong>{box.name}</strong> reached its monthly budget: {amounts}; its runs stop until you raise
        it in {link}.
      </>
    ) : (
      <>
        Box <strong>{box.name}</strong> has used {percentOf(state)}% of its monthly budget: {amounts}. Raise
        it in {link}.
      </>
    );
  }
  return state.level === "reached" ? (
    <>
      Monthly budget reached: {amounts} — raise it in {link}.
    </>
  ) : (
    <>
      You have used {percentOf(state)}% of your monthly budget: {amounts}. Runs stop when it is reached —
      raise it in {link}.
    </>
  );
}

/**
 * Shown on every dashboard page once a budget alert went out this period. Read again on each navigation
 * and after a budget form saves, so a raised cap clears it at once.
 */
export function BudgetBanner() {
  const pathname = usePathname();
  const [items, setItems] = useState<BannerItem[]>([]);
  const latest = useRef(0);

  const refresh = useCallback(async () => {
    const request = ++latest.current;
    try {
      const next = await loadBanners();
      if (request === latest.current) {
        setItems(next);
      }
    } catch {
      // A hint only: the pages show their own errors, and the next navigation tries again.
    }
  }, []);

  useEffect(() => {
    if (pathname) {
      void refresh();
    }
  }, [pathname, refresh]);

  useEffect(() => {
    const onChange = () => void refresh();
    window.addEventListener(BUDGET_CHANGED_EVENT, onChange);
    return () => window.removeEventListener(BUDGET_CHANGED_EVENT, onChange);
  }, [refresh]);

  if (items.length === 0) {
    return null;
  }
  return (
    <div className="budget-banners" data-testid="budget-banners">
      {items.map((item) => (
        <p
          key={item.key}
          className={`banner banner-block ${item.state.level === "reached" ? "banner-error" : "banner-warning"}`}
          role={item.state.level === "reached" ? "alert" : "status"}
          data-testid="budget-banner"
          data-level={item.state.level}
          data-scope={item.box ? boxScope(item.box.id) : "user"}
        >
          <span>
            <BannerText item={item} />
          </span>
        </p>
      ))}
    </div>
  );
}
