import { ledgerEntry } from "@vps-claude/db";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { RunRow, Tx } from "./run-origin";

/** What a run cost by the ledger: the sum of its entries. */
export interface RunCost {
  /** null when any of its entries has no known price (a partial sum would understate it). */
  costUsd: number | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/**
 * The ledger's sums for runs of one box, by run id; a run without entries is absent (its own
 * report, from box-agent, stands). Entries are counted only when written for that box: the run id
 * of an entry is what the box sent (`x-vps-run-id`), and a hostile box could name another's run.
 *
 * Read at each read, not stored at the run's end: the gateway writes its entries in batches just
 * after each response, so at the moment a run ends its last entries may not be in yet.
 */
export async function ledgerCostOfRuns({
  db,
  boxId,
  runIds,
}: {
  db: Tx;
  boxId: string;
  runIds: string[];
}): Promise<Map<string, RunCost>> {
  const costs = new Map<string, RunCost>();
  if (runIds.length === 0) {
    return costs;
  }
  const rows = await db
    .select({
      runId: ledgerEntry.runId,
      unpriced: sql<number>`count(*) filter (where ${ledgerEntry.costUsd} is null)::int`,
      costUsd: sql<number>`coalesce(sum(${ledgerEntry.costUsd}), 0)::float8`,
      inputTokens: sql<number>`sum(${ledgerEntry.inputTokens})::float8`,
      outputTokens: sql<number>`sum(${ledgerEntry.outputTokens})::float8`,
      cacheReadTokens: sql<number>`sum(${ledgerEntry.cacheReadTokens})::float8`,
      cacheWriteTokens: sql<number>`sum(${ledgerEntry.cacheWriteTokens})::float8`,
    })
    .from(ledgerEntry)
    .where(and(inArray(ledgerEntry.runId, [...new Set(runIds)]), eq(ledgerEntry.boxId, boxId)))
    .groupBy(ledgerEntry.runId);
  for (const { runId, unpriced, costUsd, ...tokens } of rows) {
    if (runId) {
      costs.set(runId, { costUsd: unpriced > 0 ? null : costUsd, ...tokens });
    }
  }
  return costs;
}

/** The run with its ledger's cost and tokens when it has entries (the ledger is the truth), else as recorded. */
export function withLedgerCost<
  T extends Pick<RunRow, "costUsd" | "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens">,
>(run: T, cost: RunCost | undefined): T {
  return cost ? { ...run, ...cost } : run;
}
