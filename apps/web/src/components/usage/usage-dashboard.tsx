"use client";

import { type UseQueryResult, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { type ReactNode, useId, useMemo, useState } from "react";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import type { Box } from "@/lib/box";
import { boxesQuery } from "@/lib/boxes-query";
import { formatCost } from "@/lib/format";
import { orpc } from "@/lib/orpc";
import {
  buildStackedChart,
  type DayRange,
  DIMENSION_LABELS,
  daysInRange,
  formatCount,
  groupOf,
  PERIOD_LABELS,
  periodRange,
  STACK_DIMENSIONS,
  type StackDimension,
  USAGE_PERIODS,
  type UsagePeriod,
} from "@/lib/usage";
import { type UsageReport, type UsageTotals, type UserBudget, usageReportQuery } from "@/lib/usage-api";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { BudgetSettings } from "./budget-settings";
import { CronjobCostsCard } from "./cronjob-costs";
import { SpendSummary } from "./spend-summary";
import { UsageChart } from "./usage-chart";
import { UsageTable, type UsageTableRow } from "./usage-table";

function isStackDimension(value: string | undefined): value is StackDimension {
  return STACK_DIMENSIONS.some((dimension) => dimension === value);
}

function Totals({ totals }: { totals: UsageTotals }) {
  const items: { name: string; label: string; value: number; text?: string }[] = [
    { name: "cost", label: "Cost", value: totals.costUsd, text: formatCost(totals.costUsd) },
    { name: "requests", label: "Model requests", value: totals.modelRequests },
    { name: "input", label: "Input tokens", value: totals.inputTokens },
    { name: "output", label: "Output tokens", value: totals.outputTokens },
    { name: "cache-read", label: "Cache read", value: totals.cacheReadTokens },
    { name: "cache-write", label: "Cache write", value: totals.cacheWriteTokens },
    { name: "media", label: "Media calls", value: totals.mediaCalls },
  ];
  return (
    <>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-7" data-testid="usage-totals">
        {items.map((item) => (
          <div key={item.name} className="grid gap-0.5 rounded-md border p-3">
            <dt className="text-xs text-muted-foreground">{item.label}</dt>
            <dd className="font-semibold tabular-nums" data-total={item.name} data-value={item.value}>
              {item.text ?? formatCount(item.value)}
            </dd>
          </div>
        ))}
      </dl>
      {totals.unpricedEntries > 0 ? (
        <p className="text-sm text-muted-foreground" data-testid="usage-unpriced">
          {formatCount(totals.unpricedEntries)} {totals.unpricedEntries === 1 ? "entry has" : "entries have"}{" "}
          no known price (a model or service missing from the price table): not in these costs.
        </p>
      ) : null}
    </>
  );
}

function DimensionSwitch({
  value,
  onChange,
}: {
  value: StackDimension;
  onChange: (dimension: StackDimension) => void;
}) {
  return (
    <fieldset className="flex flex-wrap gap-1" data-testid="usage-dimension">
      <legend className="sr-only">Stack the bars by</legend>
      {STACK_DIMENSIONS.map((dimension) => (
        <Button
          key={dimension}
          variant={value === dimension ? "secondary" : "ghost"}
          size="sm"
          aria-pressed={value === dimension}
          onClick={() => onChange(dimension)}
          data-dimension={dimension}
        >
          By {DIMENSION_LABELS[dimension].toLowerCase()}
        </Button>
      ))}
    </fieldset>
  );
}

function SpendPerDay({ range }: { range: DayRange }) {
  const [dimension, setDimension] = useState<StackDimension>("box");
  const report = useQuery(usageReportQuery({ ...range, groupBy: ["day", dimension] }));
  const shown = report.data;
  const shownDimension = isStackDimension(shown?.groupBy[1]) ? shown.groupBy[1] : dimension;
  const chart = useMemo(
    () =>
      shown
        ? buildStackedChart(shown.rows, shownDimension, daysInRange({ from: shown.from, to: shown.to }))
        : null,
    [shown, shownDimension],
  );

  return (
    <Card aria-labelledby="spend-per-day-title" data-testid="usage-per-day">
      <CardHeader>
        <CardTitle id="spend-per-day-title">Spend per day</CardTitle>
        {shown ? (
          <CardDescription data-testid="usage-range" data-from={shown.from} data-to={shown.to}>
            {shown.from} to {shown.to} (UTC)
          </CardDescription>
        ) : null}
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-4">
        <DimensionSwitch value={dimension} onChange={setDimension} />
        {report.isPending ? <LoadingState label="Loading usage…" testId="usage-loading" /> : null}
        {report.isError ? (
          <ErrorState
            title="Could not load your usage"
            error={report.error}
            onRetry={() => report.refetch()}
          />
        ) : null}
        {shown && chart ? (
          <>
            <Totals totals={shown.totals} />
            {shown.rows.length === 0 ? (
              <EmptyState title="No spend in this period" testId="usage-empty">
                Model requests and media calls of your boxes show here as they happen.
              </EmptyState>
            ) : (
              <UsageChart
                chart={chart}
                title={`Spend per day by ${DIMENSION_LABELS[shownDimension].toLowerCase()}`}
              />
            )}
          </>
        ) : null}
      </CardContent>
    </Card>
  );
}

function boxLabel(
  row: { boxId: string | null; boxName: string | null },
  boxes: Box[] | undefined,
): ReactNode {
  const name = row.boxName ?? row.boxId ?? "No box";
  const existing = row.boxId ? boxes?.find((box) => box.id === row.boxId) : undefined;
  if (existing) {
    return (
      <Link
        href={`/boxes/${encodeURIComponent(existing.id)}`}
        className="font-medium text-foreground hover:underline"
      >
        {existing.name}
      </Link>
    );
  }
  // The ledger keeps a deleted box's spend under the name it had.
  return boxes ? (
    <>
      {name} <span className="text-muted-foreground">(deleted)</span>
    </>
  ) : (
    name
  );
}

function tableRows(report: UsageReport, group: "box" | "trigger", boxes: Box[] | undefined): UsageTableRow[] {
  return [...report.rows]
    .sort((a, b) => b.costUsd - a.costUsd)
    .map((row) => {
      const { key, label } = groupOf(row, group);
      return { key, label: group === "box" ? boxLabel(row, boxes) : label, totals: row };
    });
}

function Breakdown({
  range,
  group,
  title,
  boxes,
}: {
  range: DayRange;
  group: "box" | "trigger";
  title: string;
  boxes: Box[] | undefined;
}) {
  const titleId = useId();
  const report = useQuery(usageReportQuery({ ...range, groupBy: [group] }));
  const rows = report.data ? tableRows(report.data, group, boxes) : [];
  return (
    <Card aria-labelledby={titleId} data-testid={`usage-by-${group}`}>
      <CardHeader>
        <CardTitle id={titleId}>{title}</CardTitle>
      </CardHeader>
      <CardContent>
        {report.isPending ? (
          <LoadingState label="Loading usage…" />
        ) : report.isError ? (
          <ErrorState
            title="Could not load your usage"
            error={report.error}
            onRetry={() => report.refetch()}
          />
        ) : rows.length === 0 ? (
          <EmptyState title="No spend in this period" />
        ) : (
          <UsageTable
            caption={title}
            groupLabel={group === "box" ? "Box" : "Trigger"}
            rows={rows}
            testId={`usage-${group}-table`}
          />
        )}
      </CardContent>
    </Card>
  );
}

function PeriodSelect({ value, onChange }: { value: UsagePeriod; onChange: (period: UsagePeriod) => void }) {
  const id = useId();
  return (
    <div className="flex items-center gap-2">
      <Label htmlFor={id}>Period</Label>
      <Select
        value={value}
        onValueChange={(next) => {
          const period = USAGE_PERIODS.find((candidate) => candidate === next);
          if (period) {
            onChange(period);
          }
        }}
      >
        <SelectTrigger id={id} className="w-40" data-testid="usage-period">
          <SelectValue />
        </SelectTrigger>
        <SelectContent>
          {USAGE_PERIODS.map((period) => (
            <SelectItem key={period} value={period}>
              {PERIOD_LABELS[period]}
            </SelectItem>
          ))}
        </SelectContent>
      </Select>
    </div>
  );
}

type BudgetQuery = UseQueryResult<UserBudget>;

function SpendCard({ budget }: { budget: BudgetQuery }) {
  if (budget.isError) {
    return (
      <ErrorState title="Could not load your budget" error={budget.error} onRetry={() => budget.refetch()} />
    );
  }
  if (budget.isPending) {
    return <LoadingState label="Loading this month's spend…" />;
  }
  return <SpendSummary budget={budget.data} />;
}

/** The Usage page: this month against the cap, spend per day and per box, trigger and cronjob, and the caps. */
export function UsageDashboard() {
  // Spend and boxes change behind any cache (runs, other tabs): this page shows them as they are now.
  const budget = useQuery({ ...orpc.budget.get.queryOptions(), refetchOnMount: "always" });
  const boxes = useQuery({ ...boxesQuery(), refetchOnMount: "always" });
  const [period, setPeriod] = useState<UsagePeriod>("this-month");
  const range = useMemo(() => periodRange(period, new Date()), [period]);

  return (
    <div className="grid grid-cols-1 gap-6" data-testid="usage-page">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Usage</h1>
          <p className="text-muted-foreground">What your agents cost, and the monthly caps that stop them.</p>
        </div>
        <PeriodSelect value={period} onChange={setPeriod} />
      </div>
      <SpendCard budget={budget} />
      <SpendPerDay range={range} />
      <Breakdown range={range} group="box" title="By box" boxes={boxes.data} />
      <Breakdown range={range} group="trigger" title="By trigger" boxes={boxes.data} />
      <CronjobCostsCard range={range} />
      {budget.data ? <BudgetSettings budget={budget.data} boxes={boxes} /> : null}
    </div>
  );
}
