import type { ReactNode } from "react";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatCost } from "@/lib/format";
import { formatCount } from "@/lib/usage";
import type { UsageTotals } from "@/lib/usage-api";

export interface UsageTableRow {
  key: string;
  label: ReactNode;
  totals: UsageTotals;
}

const COLUMNS = ["Cost", "Input tokens", "Output tokens", "Cache read", "Cache write", "Media calls"];

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
    <Table data-testid={testId} scrollLabel={caption}>
      <caption className="sr-only">{caption}</caption>
      <TableHeader>
        <TableRow>
          <TableHead scope="col">{groupLabel}</TableHead>
          {COLUMNS.map((column) => (
            <TableHead scope="col" className="text-right" key={column}>
              {column}
            </TableHead>
          ))}
        </TableRow>
      </TableHeader>
      <TableBody>
        {rows.map(({ key, label, totals }) => (
          <TableRow key={key} data-testid={`${testId}-row`} data-key={key}>
            <TableHead scope="row" className="font-normal">
              {label}
            </TableHead>
            <NumberCell name="cost" value={totals.costUsd} text={formatCost(totals.costUsd)} />
            <NumberCell name="input" value={totals.inputTokens} />
            <NumberCell name="output" value={totals.outputTokens} />
            <NumberCell name="cache-read" value={totals.cacheReadTokens} />
            <NumberCell name="cache-write" value={totals.cacheWriteTokens} />
            <NumberCell name="media" value={totals.mediaCalls} />
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

export function NumberCell({ name, value, text }: { name: string; value: number; text?: string }) {
  return (
    <TableCell className="text-right tabular-nums" data-cell={name} data-value={value}>
      {text ?? formatCount(value)}
    </TableCell>
  );
}
