"use client";

import Link from "next/link";
import { type ReactNode, useCallback, useId, useMemo, useState } from "react";
import { boxesApi } from "@/lib/api-client";
import type { Box } from "@/lib/box";
import { formatCost } from "@/lib/format";
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
import { budgetApi, type UsageReport, type UsageTotals, usageApi } from "@/lib/usage-api";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { type Resource, useResource } from "../use-resource";
import { BudgetSettings } from "./budget-settings";
import { CronjobCostsCard } from "./cronjob-costs";
import { SpendSummary } from "./spend-summary";
import { UsageChart } from "./usage-chart";
import { UsageTable, type UsageTableRow } from "./usage-table";

function isStackDimension(value: string | undefined): value is StackDimension {
  return STACK_DIMENSIONS.some((dimension) => dimension === value);
}

function Totals({ totals }: { totals: UsageTotals }) {
  const items: { name: string; label: string; value: number; text: string }[] = [
    { name: "cost", label: "Cost", value: totals.costUsd, text: formatCost(totals.costUsd) },
    { name: "requests", label: "Model requests", value: totals.modelRequests, text: "" },
    { name: "input", label: "Input tokens", value: totals.inputTokens, text: "" },
    { name: "output", label: "Output tokens", value: totals.outputTokens, text: "" },
    { name: "cache-read", label: "Cache read", value: totals.cacheReadTokens, text: "" },
    { name: "cache-write", label: "Cache write", value: totals.cacheWriteTokens, text: "" },
    { name: "media", label: "Media calls", value: totals.mediaCalls, text: "" },
  ];
  return (
    <>
      <dl className="usage-totals" data-testid="usage-totals">
        {items.map((item) => (
          <div key={item.name}>
            <dt>{item.label}</dt>
            <dd data-total={item.name} data-value={item.value}>
              {item.text || formatCount(item.value)}
            </dd>
          </div>
        ))}
      </dl>
      {totals.unpricedEntries > 0 ? (
        <p className="muted small" data-testid="usage-unpriced">
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
    <fieldset className="segmented" data-testid="usage-dimension">
      <legend className="visually-hidden">Stack the bars by</legend>
      {STACK_DIMENSIONS.map((dimension) => (
        <button
          key={dimension}
          type="button"
          aria-pressed={value === dimension}
          onClick={() => onChange(dimension)}
          data-dimension={dimension}
        >
          By {DIMENSION_LABELS[dimension].toLowerCase()}
        </button>
      ))}
    </fieldset>
  );
}

function SpendPerDay({ range }: { range: DayRange }) {
  const [dimension, setDimension] = useState<StackDimension>("box");
  const load = useCallback(
    () => usageApi.report({ ...range, groupBy: ["day", dimension] }),
    [range, dimension],
  );
  const report = useResource(load);
  // Built from the answer's own grouping: while the next one loads, the bars stay consistent.
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
    <section className="card" aria-labelledby="spend-per-day-title" data-testid="usage-per-day">
      <div className="card-heading">
        <div>
          <h2 id="spend-per-day-title" className="card-title">
            Spend per day
          </h2>
          {shown ? (
            <p className="muted small" data-testid="usage-range" data-from={shown.from} data-to={shown.to}>
              {shown.from} to {shown.to} (UTC)
            </p>
          ) : null}
        </div>
        <DimensionSwitch value={dimension} onChange={setDimension} />
      </div>
      {report.error ? (
        <ErrorState title="Could not load your usage" error={report.error} onRetry={report.reload} />
      ) : null}
      {report.loading ? (
        <LoadingState label="Loading usage…" testId="usage-loading" />
      ) : shown && chart ? (
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
    </section>
  );
}

function boxLabel(
  row: { boxId: string | null; boxName: string | null },
  boxes: Box[] | undefined,
): ReactNode {
  const name = row.boxName ?? row.boxId ?? "No box";
  const existing = row.boxId ? boxes?.find((box) => box.id === row.boxId) : undefined;
  if (existing) {
    return <Link href={`/boxes/${encodeURIComponent(existing.id)}`}>{existing.name}</Link>;
  }
  // The ledger keeps a deleted box's spend under the name it had.
  return boxes ? (
    <>
      {name} <span className="muted small">(deleted)</span>
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
  const load = useCallback(() => usageApi.report({ ...range, groupBy: [group] }), [range, group]);
  const report = useResource(load);
  const rows = report.data ? tableRows(report.data, group, boxes) : [];
  return (
    <section className="card" aria-labelledby={titleId} data-testid={`usage-by-${group}`}>
      <h2 id={titleId} className="card-title">
        {title}
      </h2>
      {report.error ? (
        <ErrorState title="Could not load your usage" error={report.error} onRetry={report.reload} />
      ) : null}
      {report.loading ? (
        <LoadingState label="Loading usage…" />
      ) : rows.length === 0 && !report.error ? (
        <EmptyState title="No spend in this period" />
      ) : (
        <UsageTable
          caption={title}
          groupLabel={group === "box" ? "Box" : "Trigger"}
          rows={rows}
          testId={`usage-${group}-table`}
        />
      )}
    </section>
  );
}

function PeriodSelect({ value, onChange }: { value: UsagePeriod; onChange: (period: UsagePeriod) => void }) {
  const id = useId();
  return (
    <div className="field field-inline">
      <label htmlFor={id}>Period</label>
      <select
        id={id}
        value={value}
        onChange={(event) => {
          const next = USAGE_PERIODS.find((period) => period === event.target.value);
          if (next) {
            onChange(next);
          }
        }}
        data-testid="usage-period"
      >
        {USAGE_PERIODS.map((period) => (
          <option key={period} value={period}>
            {PERIOD_LABELS[period]}
          </option>
        ))}
      </select>
    </div>
  );
}

function SpendCard({ budget }: { budget: Resource<Awaited<ReturnType<typeof budgetApi.get>>> }) {
  if (budget.error) {
    return <ErrorState title="Could not load your budget" error={budget.error} onRetry={budget.reload} />;
  }
  if (budget.loading || !budget.data) {
    return <LoadingState label="Loading this month's spend…" />;
  }
  return <SpendSummary budget={budget.data} />;
}

/** The Usage page: this month against the cap, spend per day and per box, trigger and cronjob, and the caps. */
export function UsageDashboard() {
  const budget = useResource(budgetApi.get);
  const boxes = useResource(boxesApi.list);
  const [period, setPeriod] = useState<UsagePeriod>("this-month");
  const range = useMemo(() => periodRange(period, new Date()), [period]);
  const { setData: setBudget } = budget;

  return (
    <div className="stack" data-testid="usage-page">
      <div className="page-heading">
        <div>
          <h1>Usage</h1>
          <p className="muted">What your agents cost, and the monthly caps that stop them.</p>
        </div>
        <PeriodSelect value={period} onChange={setPeriod} />
      </div>
      <SpendCard budget={budget} />
      <SpendPerDay range={range} />
      <Breakdown range={range} group="box" title="By box" boxes={boxes.data} />
      <Breakdown range={range} group="trigger" title="By trigger" boxes={boxes.data} />
      <CronjobCostsCard range={range} />
      {budget.data ? (
        <BudgetSettings budget={budget.data} onBudgetSaved={(updated) => setBudget(updated)} boxes={boxes} />
      ) : null}
    </div>
  );
}
