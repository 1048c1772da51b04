import type { ReactNode } from "react";
import { formatCost } from "@/lib/format";
import { formatCount } from "@/lib/usage";
import type { UsageTotals } from "@/lib/usage-api";

export interface UsageTableRow {
  key: string;
  label: ReactNode;
  totals: UsageTotals;
}

/** Costs and tokens per group; each cell carries its exact number (`data-value`) beside the rounded text. */
export function UsageTable({
  caption,
  groupLabel,
  rows,
  testId,
}: {
  caption: string;
  groupLabel: string;
  rows: readonly UsageTableRow[];
  testId: string;
}) {
  return (
    <div className="table-wrap">
      <table className="table usage-table" data-testid={testId}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{groupLabel}</th>
            <th scope="col" className="numeric">
              Cost
            </th>
            <th scope="col" className="numeric">
              Input tokens
            </th>
            <th scope="col" className="numeric">
              Output tokens
            </th>
            <th scope="col" className="numeric">
              Cache read
            </th>
            <th scope="col" className="numeric">
              Cache write
            </th>
            <th scope="col" className="numeric">
              Media calls
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ key, label, totals }) => (
            <tr key={key} data-testid={`${testId}-row`} data-key={key}>
              <th scope="row">{label}</th>
              <NumberCell name="cost" value={totals.costUsd} text={formatCost(totals.costUsd)} />
              <NumberCell name="input" value={totals.inputTokens} />
              <NumberCell name="output" value={totals.outputTokens} />
              <NumberCell name="cache-read" value={totals.cacheReadTokens} />
              <NumberCell name="cache-write" value={totals.cacheWriteTokens} />
              <NumberCell name="media" value={totals.mediaCalls} />
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NumberCell({ name, value, text }: { name: string; value: number; text?: string }) {
  return (
    <td className="numeric" data-cell={name} data-value={value}>
      {text ?? formatCount(value)}
    </td>
  );
}
