"use client";

import Link from "next/link";
import { useCallback } from "react";
import { ApiError } from "@/lib/api-error";
import { cronjobsApi } from "@/lib/box-api";
import { formatCost } from "@/lib/format";
import { CRON_RUN_MAX_PAGES, type DayRange, formatCount, sumCronRuns } from "@/lib/usage";
import { runsApi, usageApi } from "@/lib/usage-api";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { useResource } from "../use-resource";

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
  return error instanceof ApiError && error.status === 404;
}

/**
 * Per-cronjob costs from the runs each cronjob started (the ledger sums per box and trigger, not per
 * cronjob). Only boxes the ledger shows cron spend for in the range are read.
 */
async function loadCronjobCosts(range: DayRange): Promise<CronjobCosts> {
  const report = await usageApi.report({ ...range, groupBy: ["box", "trigger"] });
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
          cronjobsApi.list(id),
          sumCronRuns(
            (cursor) => runsApi.list(id, { trigger: "cron", cursor, limit: RUNS_PAGE_SIZE }),
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
  const load = useCallback(() => loadCronjobCosts(range), [range]);
  const costs = useResource(load);
  const rows = costs.data?.rows ?? [];

  return (
    <section className="card" aria-labelledby="cron-costs-title" data-testid="usage-by-cronjob">
      <h2 id="cron-costs-title" className="card-title">
        By cronjob
      </h2>
      <p className="muted small">
        What each cronjob's runs cost in this period, from the cost each run ended with.
      </p>
      {costs.error ? (
        <ErrorState title="Could not load the cronjobs' costs" error={costs.error} onRetry={costs.reload} />
      ) : null}
      {costs.loading ? (
        <LoadingState label="Adding up cronjob runs…" />
      ) : rows.length === 0 && !costs.error ? (
        <EmptyState title="No cronjob spend in this period" testId="usage-by-cronjob-empty" />
      ) : (
        <div className="table-wrap">
          <table className="table usage-table" data-testid="usage-cronjob-table">
            <caption className="visually-hidden">Cost per cronjob</caption>
            <thead>
              <tr>
                <th scope="col">Cronjob</th>
                <th scope="col">Box</th>
                <th scope="col" className="numeric">
                  Runs
                </th>
                <th scope="col" className="numeric">
                  Cost
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr
                  key={`${row.boxId}/${row.cronjobId}`}
                  data-testid="usage-cronjob-row"
                  data-cronjob-id={row.cronjobId}
                >
                  <th scope="row">{row.cronjobName ?? <span className="muted">Deleted cronjob</span>}</th>
                  <td>
                    <Link href={`/boxes/${encodeURIComponent(row.boxId)}?tab=cronjobs`}>{row.boxName}</Link>
                  </td>
                  <td className="numeric" data-cell="runs" data-value={row.runs}>
                    {formatCount(row.runs)}
                  </td>
                  <td className="numeric" data-cell="cost" data-value={row.costUsd}>
                    {formatCost(row.costUsd)}
                    {row.unpricedRuns > 0 ? (
                      <span className="muted small"> ({row.unpricedRuns} without a cost yet)</span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {costs.data?.partial ? (
        <p className="muted small" data-testid="usage-by-cronjob-partial">
          At least these amounts: only the latest {formatCount(RUNS_PAGE_SIZE * CRON_RUN_MAX_PAGES)} cron runs
          of each box, and the {MAX_BOXES} boxes with the most cron spend, are added up here. The table by
          trigger has the full cron total.
        </p>
      ) : null}
    </section>
  );
}
