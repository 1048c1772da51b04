"use client";

import { useId } from "react";
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { Table, TableBody, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatCost } from "@/lib/format";
import { formatUsd, roundUsd, type StackedChart } from "@/lib/usage";
import { NumberCell } from "./usage-table";

const CHART_HEIGHT = 280;

/** The theme's tokens, so the chart follows light and dark mode with the rest of the page. */
const AXIS_TICK = { fill: "var(--muted-foreground)", fontSize: 12 };
const TOOLTIP_STYLE = {
  backgroundColor: "var(--popover)",
  border: "1px solid var(--border)",
  borderRadius: "var(--radius)",
  color: "var(--popover-foreground)",
  fontSize: 12,
};

function costText(value: unknown): string {
  return typeof value === "number" ? formatCost(value) : String(value ?? "");
}

/** "Mar 5" for the tooltip: the axis shows only the day of the month. */
function dayText(day: unknown): string {
  if (typeof day !== "string") {
    return String(day ?? "");
  }
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime())
    ? day
    : date.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}

/**
 * Spend per day as stacked bars (recharts). Screen readers get the same numbers as a table under the
 * chart; the SVG itself only names what it shows.
 */
export function UsageChart({ chart, title }: { chart: StackedChart; title: string }) {
  const tableId = useId();
  return (
    <figure className="grid min-w-0 gap-2" aria-describedby={tableId} data-testid="usage-chart">
      <BarChart
        responsive
        data={chart.points}
        style={{ width: "100%", height: CHART_HEIGHT }}
        margin={{ top: 8, right: 8, bottom: 0, left: 0 }}
        title={title}
        desc="The same numbers are in the table under the chart."
      >
        <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--border)" />
        <XAxis
          dataKey="day"
          tickFormatter={(day: string) => String(Number(day.slice(8)))}
          minTickGap={8}
          tick={AXIS_TICK}
          stroke="var(--border)"
        />
        <YAxis
          width={64}
          tickFormatter={(value: number) => formatUsd(value)}
          allowDecimals
          tick={AXIS_TICK}
          stroke="var(--border)"
        />
        <Tooltip
          formatter={(value, name) => [costText(value), name]}
          labelFormatter={dayText}
          contentStyle={TOOLTIP_STYLE}
          cursor={{ fill: "var(--muted)" }}
        />
        <Legend wrapperStyle={{ fontSize: 12, color: "var(--foreground)" }} />
        {chart.series.map((series) => (
          <Bar
            key={series.key}
            dataKey={series.key}
            name={series.label}
            stackId="spend"
            fill={series.color}
            isAnimationActive={false}
          />
        ))}
      </BarChart>
      <figcaption className="text-sm text-muted-foreground">{title}, in US dollars (UTC days).</figcaption>
      <ChartTable id={tableId} chart={chart} title={title} />
    </figure>
  );
}

/** The chart's text alternative: a row per day, a column per stacked group. */
function ChartTable({ id, chart, title }: { id: string; chart: StackedChart; title: string }) {
  return (
    <details className="text-sm">
      <summary className="cursor-pointer rounded-sm font-medium outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50">
        Spend per day as a table
      </summary>
      <Table id={id} data-testid="usage-chart-table" scrollLabel={title}>
        <caption className="sr-only">{title}</caption>
        <TableHeader>
          <TableRow>
            <TableHead scope="col">Day</TableHead>
            {chart.series.map((series) => (
              <TableHead scope="col" className="text-right" key={series.key}>
                {series.label}
              </TableHead>
            ))}
            <TableHead scope="col" className="text-right">
              Total
            </TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {chart.points.map((point) => {
            const values = chart.series.map((series) => Number(point[series.key] ?? 0));
            const total = roundUsd(values.reduce((sum, value) => sum + value, 0));
            return (
              <TableRow key={point.day} data-day={point.day}>
                <TableHead scope="row" className="font-normal">
                  {point.day}
                </TableHead>
                {values.map((value, index) => (
                  <NumberCell
                    key={chart.series[index]?.key ?? index}
                    name={chart.series[index]?.key ?? String(index)}
                    value={value}
                    text={formatCost(value)}
                  />
                ))}
                <NumberCell name="total" value={total} text={formatCost(total)} />
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
    </details>
  );
}
