"use client";

import { type UseQueryResult, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { asApiError } from "@/lib/api-error";
import { formatCost } from "@/lib/format";
import { api, orpc } from "@/lib/orpc";
import { CRON_RUN_MAX_PAGES, type DayRange, formatCount, sumCronRuns } from "@/lib/usage";
import { reportInput } from "@/lib/usage-api";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { NumberCell } from "./usage-table";

/** The boxes whose cronjobs are summed: the costliest first, so a user with hundreds of boxes waits for few. */
const MAX_BOXES = 20;
const RUNS_PAGE_SIZE = 200;

interface CronjobCostRow {
  boxId: string;
  boxName: string;
  cronjobId: string;
  /** null: the cronjob was deleted since. */
  cronjobName: string | null;
  runs: number;
  costUsd: number;
  unpricedRuns: number;
}

interface CronjobCosts {
  rows: CronjobCostRow[];
  /** Some box had more cron runs in the period than were read, or more boxes had cron spend than shown. */
  partial: boolean;
}

function isNotFound(error: unknown): boolean {
  return asApiError(error)?.status === 404;
}

/**
 * Per-cronjob costs from the runs each cronjob started (the ledger sums per box and trigger, not per
 * cronjob). Only boxes the ledger shows cron spend for in the range are read.
 */
async function loadCronjobCosts(range: DayRange, signal: AbortSignal): Promise<CronjobCosts> {
  const report = await api.usage.report(reportInput({ ...range, groupBy: ["box", "trigger"] }), { signal });
  const cronBoxes = report.rows
    .filter(
      (row) => row.trigger === "cron" && row.boxId !== null && (row.costUsd > 0 || row.modelRequests > 0),
    )
    .sort((a, b) => b.costUsd - a.costUsd);
  const shown = cronBoxes.slice(0, MAX_BOXES);
  const perBox = await Promise.all(
    shown.map(async ({ boxId, boxName }) => {
      const id = boxId ?? "";
      try {
        const [cronjobs, sums] = await Promise.all([
          api.cronjob.list({ boxId: id }, { signal }),
          sumCronRuns(
            (cursor) =>
              api.run.list(
                { boxId: id, trigger: "cron", limit: RUNS_PAGE_SIZE, ...(cursor ? { cursor } : {}) },
                { signal },
              ),
            range,
          ),
        ]);
        const names = new Map(cronjobs.map((cronjob) => [cronjob.id, cronjob.name]));
        const rows = sums.costs.map((cost) => ({
          boxId: id,
          boxName: boxName ?? id,
          cronjobId: cost.cronjobId,
          cronjobName: names.get(cost.cronjobId) ?? null,
          runs: cost.runs,
          costUsd: cost.costUsd,
          unpricedRuns: cost.unpricedRuns,
        }));
        return { rows, complete: sums.complete };
      } catch (error) {
        // A deleted box keeps its ledger entries, but its cronjobs and runs went with it.
        if (isNotFound(error)) {
          return { rows: [], complete: true };
        }
        throw error;
      }
    }),
  );
  const rows = perBox.flatMap((box) => box.rows).sort((a, b) => b.costUsd - a.costUsd);
  const partial = cronBoxes.length > shown.length || perBox.some((box) => !box.complete);
  return { rows, partial };
}

export function CronjobCostsCard({ range }: { range: DayRange }) {
  const costs = useQuery({
    // Under the usage report's key, so whatever invalidates usage invalidates this sum too.
    queryKey: [...orpc.usage.key(), "by-cronjob", range],
    queryFn: ({ signal }) => loadCronjobCosts(range, signal),
  });

  return (
    <Card aria-labelledby="cron-costs-title" data-testid="usage-by-cronjob">
      <CardHeader>
        <CardTitle id="cron-costs-title">By cronjob</CardTitle>
        <CardDescription>
          What each cronjob's runs cost in this period, from the cost each run ended with.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-3">
        <CronjobCostsBody costs={costs} />
        {costs.data?.partial ? (
          <p className="text-sm text-muted-foreground" data-testid="usage-by-cronjob-partial">
            At least these amounts: only the latest {formatCount(RUNS_PAGE_SIZE * CRON_RUN_MAX_PAGES)} cron
            runs of each box, and the {MAX_BOXES} boxes with the most cron spend, are added up here. The table
            by trigger has the full cron total.
          </p>
        ) : null}
      </CardContent>
    </Card>
  );
}

function CronjobCostsBody({ costs }: { costs: UseQueryResult<CronjobCosts> }) {
  if (costs.isPending) {
    return <LoadingState label="Adding up cronjob runs…" />;
  }
  if (costs.isError) {
    return (
      <ErrorState
        title="Could not load the cronjobs' costs"
        error={costs.error}
        onRetry={() => costs.refetch()}
      />
    );
  }
  if (costs.data.rows.length === 0) {
    return <EmptyState title="No cronjob spend in this period" testId="usage-by-cronjob-empty" />;
  }
  return (
    <Table data-testid="usage-cronjob-table" scrollLabel="Cost per cronjob">
      <caption className="sr-only">Cost per cronjob</caption>
      <TableHeader>
        <TableRow>
          <TableHead scope="col">Cronjob</TableHead>
          <TableHead scope="col">Box</TableHead>
          <TableHead scope="col" className="text-right">
            Runs
          </TableHead>
          <TableHead scope="col" className="text-right">
            Cost
          </TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {costs.data.rows.map((row) => (
          <TableRow
            key={`${row.boxId}/${row.cronjobId}`}
            data-testid="usage-cronjob-row"
            data-cronjob-id={row.cronjobId}
          >
            <TableHead scope="row" className="font-normal">
              {row.cronjobName ?? <span className="text-muted-foreground">Deleted cronjob</span>}
            </TableHead>
            <TableCell>
              <Link
                href={`/boxes/${encodeURIComponent(row.boxId)}?tab=cronjobs`}
                className="font-medium text-foreground hover:underline"
              >
                {row.boxName}
              </Link>
            </TableCell>
            <NumberCell name="runs" value={row.runs} />
            <NumberCell
              name="cost"
              value={row.costUsd}
              text={
                row.unpricedRuns > 0
                  ? `${formatCost(row.costUsd)} (${row.unpricedRuns} without a cost yet)`
                  : formatCost(row.costUsd)
              }
            />
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
