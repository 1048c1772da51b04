"use client";

import { useQueries, useQuery } from "@tanstack/react-query";
import { AlertTriangleIcon, OctagonAlertIcon } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { orpc } from "@/lib/orpc";
import {
  alertedBoxIds,
  type BudgetBannerState,
  boxBudgetBanner,
  boxScope,
  formatUsd,
  userBudgetBanner,
} from "@/lib/usage";

/** A month has at most a few box alerts; past this many the Usage page lists them all anyway. */
const MAX_BOX_BANNERS = 3;
const USAGE_PATH = "/settings/usage";

interface BannerItem {
  key: string;
  state: BudgetBannerState;
  /** null: the user's own monthly cap. */
  box: { id: string; name: string } | null;
}

function percentOf({ spentUsd, capUsd }: BudgetBannerState): number {
  return capUsd === 0 ? 100 : Math.floor((spentUsd / capUsd) * 100);
}

function BannerText({ item }: { item: BannerItem }) {
  const { state, box } = item;
  const amounts = `${formatUsd(state.spentUsd)} of ${formatUsd(state.capUsd)}`;
  const link = (
    <Link
      href={box ? `${USAGE_PATH}#box-budget-${encodeURIComponent(box.id)}` : `${USAGE_PATH}#budget`}
      className="font-medium text-inherit underline underline-offset-4"
    >
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
 * The banners to show: the user's own cap, and each box with an alert this period. A box deleted since
 * its alert answers 404 and has nothing left to raise.
 */
function useBannerItems(): BannerItem[] {
  const pathname = usePathname();
  const budget = useQuery(orpc.budget.get.queryOptions());
  const { refetch } = budget;
  // Spend moves while the user works elsewhere: read it again on each navigation (not on a timer).
  useEffect(() => {
    if (pathname) {
      void refetch({ cancelRefetch: false });
    }
  }, [pathname, refetch]);

  const boxIds = budget.data ? alertedBoxIds(budget.data).slice(0, MAX_BOX_BANNERS) : [];
  const boxBudgets = useQueries({
    queries: boxIds.map((boxId) => orpc.budget.getBox.queryOptions({ input: { boxId } })),
  });
  const boxes = useQueries({
    queries: boxIds.map((boxId) => orpc.box.get.queryOptions({ input: { id: boxId } })),
  });
  if (!budget.data) {
    return [];
  }
  const { alerts } = budget.data;
  const own = userBudgetBanner(budget.data);
  const items: BannerItem[] = own ? [{ key: "user", state: own, box: null }] : [];
  boxIds.forEach((boxId, index) => {
    const boxBudget = boxBudgets[index]?.data;
    const box = boxes[index]?.data;
    const state = boxBudget
      ? boxBudgetBanner(
          boxBudget,
          alerts.filter((alert) => alert.scope === boxScope(boxId)),
        )
      : null;
    if (state && box) {
      items.push({ key: boxId, state, box: { id: box.id, name: box.name } });
    }
  });
  return items;
}

/**
 * Shown on every dashboard page once a budget alert went out this period. The budget forms invalidate
 * `orpc.budget`, so a raised cap clears it at once.
 */
export function BudgetBanner() {
  const items = useBannerItems();
  if (items.length === 0) {
    return null;
  }
  return (
    <div className="grid gap-2" data-testid="budget-banners">
      {items.map((item) => {
        const reached = item.state.level === "reached";
        const Icon = reached ? OctagonAlertIcon : AlertTriangleIcon;
        return (
          <Alert
            key={item.key}
            variant={reached ? "destructive" : "warning"}
            role={reached ? "alert" : "status"}
            data-testid="budget-banner"
            data-level={item.state.level}
            data-scope={item.box ? boxScope(item.box.id) : "user"}
          >
            <Icon aria-hidden />
            <AlertDescription className={reached ? "text-destructive" : "text-foreground"}>
              <p>
                <BannerText item={item} />
              </p>
            </AlertDescription>
          </Alert>
        );
      })}
    </div>
  );
}
