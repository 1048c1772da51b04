"use client";

import { useId } from "react";
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { formatCost } from "@/lib/format";
import { formatUsd, roundUsd, type StackedChart } from "@/lib/usage";

const CHART_HEIGHT = 280;

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
    <figure className="usage-figure" aria-describedby={tableId} data-testid="usage-chart">
      <div className="usage-chart">
        <BarChart
          responsive
          data={chart.points}
          style={{ width: "100%", height: CHART_HEIGHT }}
          margin={{ top: 8, right: 8, bottom: 0, left: 0 }}
          title={title}
          desc="The same numbers are in the table under the chart."
        >
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="day" tickFormatter={(day: string) => String(Number(day.slice(8)))} minTickGap={8} />
          <YAxis width={64} tickFormatter={(value: number) => formatUsd(value)} allowDecimals />
          <Tooltip formatter={(value, name) => [costText(value), name]} labelFormatter={dayText} />
          <Legend />
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
      </div>
      <figcaption className="muted small">{title}, in US dollars (UTC days).</figcaption>
      <ChartTable id={tableId} chart={chart} title={title} />
    </figure>
  );
}

/** The chart's text alternative: a row per day, a column per stacked group. */
function ChartTable({ id, chart, title }: { id: string; chart: StackedChart; title: string }) {
  return (
    <details className="usage-details">
      <summary>Spend per day as a table</summary>
      <div className="table-wrap">
        <table className="table usage-table" id={id} data-testid="usage-chart-table">
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {chart.series.map((series) => (
                <th scope="col" className="numeric" key={series.key}>
                  {series.label}
                </th>
              ))}
              <th scope="col" className="numeric">
                Total
              </th>
            </tr>
          </thead>
          <tbody>
            {chart.points.map((point) => {
              const values = chart.series.map((series) => Number(point[series.key] ?? 0));
              const total = roundUsd(values.reduce((sum, value) => sum + value, 0));
              return (
                <tr key={point.day} data-day={point.day}>
                  <th scope="row">{point.day}</th>
                  {values.map((value, index) => (
                    <td className="numeric" key={chart.series[index]?.key ?? index} data-value={value}>
                      {formatCost(value)}
                    </td>
                  ))}
                  <td className="numeric" data-cell="total" data-value={total}>
                    {formatCost(total)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </details>
  );
}
