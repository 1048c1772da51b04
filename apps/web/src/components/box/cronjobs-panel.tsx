"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ChevronDownIcon, ChevronRightIcon, PlayIcon } from "lucide-react";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useId, useRef, useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Switch } from "@/components/ui/switch";
import {
  Table,
  TableBody,
  TableCaption,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { errorMessage } from "@/lib/api-error";
import type { Cronjob, CronjobExecution, CronjobExecutionStatus } from "@/lib/box-api";
import { BOX_TAB_ITEM_PARAM, replaceSearchParam } from "@/lib/box-tabs";
import { TRANSITIONAL_POLL_MS } from "@/lib/boxes-query";
import { formatCost, formatDateTime, formatDuration } from "@/lib/format";
import { orpc } from "@/lib/orpc";
import { cn } from "@/lib/utils";
import { ConfirmDialog } from "../confirm-dialog";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { RelativeTime } from "../relative-time";
import { CronjobForm, type CronjobFormInput } from "./cronjob-form";

const EXECUTION_LABELS: Record<CronjobExecutionStatus, string> = {
  pending: "pending",
  waking_box: "waking the box",
  running: "running",
  completed: "completed",
  failed: "failed",
  skipped: "skipped",
};

const EXECUTION_VARIANTS: Record<
  CronjobExecutionStatus,
  "secondary" | "warning" | "success" | "destructive" | "outline"
> = {
  pending: "secondary",
  waking_box: "warning",
  running: "warning",
  completed: "success",
  failed: "destructive",
  skipped: "outline",
};

const TRANSITIONAL_EXECUTION: ReadonlySet<CronjobExecutionStatus> = new Set([
  "pending",
  "waking_box",
  "running",
]);

/** A "run now" the worker has not recorded yet: the newest execution the list had when it was asked for. */
interface RunRequest {
  newestBefore: string | null;
}

function executionsOptions(boxId: string, cronjobId: string) {
  return orpc.cronjob.executions.queryOptions({ input: { boxId, id: cronjobId } });
}

/** Still changing on its own: a run in progress, or a requested run not listed yet. */
function executionsChanging(rows: CronjobExecution[] | undefined, request: RunRequest | null): boolean {
  const list = rows ?? [];
  const requestPending = request !== null && (list[0]?.id ?? null) === request.newestBefore;
  return requestPending || list.some((execution) => TRANSITIONAL_EXECUTION.has(execution.status));
}

function useInvalidateCronjobs() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: orpc.cronjob.key() });
}

function ExecutionResult({ execution }: { execution: CronjobExecution }) {
  if (execution.errorMessage) {
    return <span className="text-destructive">{execution.errorMessage}</span>;
  }
  return execution.resultExcerpt ? <span>{execution.resultExcerpt}</span> : <span aria-hidden>—</span>;
}

function ExecutionRow({ boxId, execution }: { boxId: string; execution: CronjobExecution }) {
  return (
    <TableRow data-testid="cronjob-execution" data-status={execution.status}>
      <TableCell>{formatDateTime(execution.scheduledFor)}</TableCell>
      <TableCell>
        <Badge variant={EXECUTION_VARIANTS[execution.status]} data-testid="cronjob-execution-status">
          {EXECUTION_LABELS[execution.status]}
        </Badge>
      </TableCell>
      <TableCell>{formatDateTime(execution.startedAt)}</TableCell>
      <TableCell>{formatDateTime(execution.completedAt)}</TableCell>
      <TableCell>{formatDuration(execution.durationMs)}</TableCell>
      <TableCell data-testid="cronjob-execution-cost">{formatCost(execution.costUsd)}</TableCell>
      <TableCell data-run-id={execution.runId ?? undefined}>
        {execution.runId ? (
          <Link
            href={`/boxes/${encodeURIComponent(boxId)}/runs/${encodeURIComponent(execution.runId)}`}
            className="text-primary underline-offset-4 hover:underline"
            data-testid="cronjob-execution-run-link"
          >
            Open run<span className="sr-only"> scheduled for {formatDateTime(execution.scheduledFor)}</span>
          </Link>
        ) : null}
      </TableCell>
      <TableCell className="min-w-48 whitespace-normal">
        <ExecutionResult execution={execution} />
      </TableCell>
    </TableRow>
  );
}

/** Once the runs shown stop changing, the cronjob's own "last run" is re-read: a run has just been recorded. */
function useRefreshListWhenSettled(boxId: string, changing: boolean) {
  const queryClient = useQueryClient();
  const wasChanging = useRef(changing);
  useEffect(() => {
    if (wasChanging.current && !changing) {
      void queryClient.invalidateQueries({ queryKey: orpc.cronjob.list.key({ input: { boxId } }) });
    }
    wasChanging.current = changing;
  }, [boxId, changing, queryClient]);
}

function Executions({
  boxId,
  cronjobId,
  request,
}: {
  boxId: string;
  cronjobId: string;
  request: RunRequest | null;
}) {
  const executions = useQuery({
    ...executionsOptions(boxId, cronjobId),
    refetchInterval: (query) =>
      executionsChanging(query.state.data, request) ? TRANSITIONAL_POLL_MS : false,
  });
  useRefreshListWhenSettled(boxId, executionsChanging(executions.data, request));

  if (executions.isPending) {
    return <LoadingState label="Loading runs…" testId="cronjob-executions-loading" />;
  }
  if (executions.isError) {
    return (
      <ErrorState
        title="Could not load the runs"
        error={executions.error}
        onRetry={() => executions.refetch()}
      />
    );
  }
  const rows = executions.data;
  const waitingForRequest = request !== null && (rows[0]?.id ?? null) === request.newestBefore;
  return (
    <div className="grid min-w-0 gap-2">
      {waitingForRequest ? (
        <p className="text-sm text-muted-foreground" role="status" data-testid="cronjob-run-queued">
          Run queued: it shows here as soon as the box picks it up.
        </p>
      ) : null}
      {rows.length === 0 ? (
        waitingForRequest ? null : (
          <p className="text-sm text-muted-foreground" data-testid="cronjob-executions-empty">
            No runs yet. The first one happens at the next time the schedule matches.
          </p>
        )
      ) : (
        <Table data-testid="cronjob-executions">
          <TableCaption className="sr-only">Latest runs, newest first</TableCaption>
          <TableHeader>
            <TableRow>
              <TableHead scope="col">Scheduled for</TableHead>
              <TableHead scope="col">Status</TableHead>
              <TableHead scope="col">Started</TableHead>
              <TableHead scope="col">Completed</TableHead>
              <TableHead scope="col">Duration</TableHead>
              <TableHead scope="col">Cost</TableHead>
              <TableHead scope="col">Run</TableHead>
              <TableHead scope="col">Result</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rows.map((execution) => (
              <ExecutionRow key={execution.id} boxId={boxId} execution={execution} />
            ))}
          </TableBody>
        </Table>
      )}
    </div>
  );
}

/** "fresh conversation · skips a tick while one runs · model x · stops after 90 min". */
function describeSettings(cronjob: Cronjob): string {
  return [
    cronjob.session === "fresh" ? "fresh conversation each run" : "continues one conversation",
    cronjob.overlap === "skip"
      ? "skips a tick while a run still works"
      : "queues a tick while a run still works",
    cronjob.model ? `model ${cronjob.model}` : null,
    cronjob.maxDurationMinutes ? `stops a run after ${cronjob.maxDurationMinutes} min` : null,
  ]
    .filter(Boolean)
    .join(" · ");
}

function NextRuns({ cronjob }: { cronjob: Cronjob }) {
  const [nextRun, ...laterRuns] = cronjob.nextRuns;
  return (
    <p className="text-sm text-muted-foreground" data-testid="cronjob-next-runs">
      {nextRun ? (
        <>
          next run <RelativeTime iso={nextRun} />
          {laterRuns.length > 0 ? `, then ${laterRuns.slice(0, 2).map(formatDateTime).join(", ")}` : null}
        </>
      ) : (
        "no upcoming runs while paused"
      )}
    </p>
  );
}

function CronjobSummary({ cronjob }: { cronjob: Cronjob }) {
  return (
    <div className="grid min-w-0 gap-1">
      <h3 className="font-semibold break-words" data-testid="cronjob-name-text">
        {cronjob.name}
      </h3>
      <p className="text-sm break-words">
        <code className="font-mono" data-testid="cronjob-schedule-text">
          {cronjob.schedule}
        </code>{" "}
        <span className="text-muted-foreground">in {cronjob.timezone}</span>
        {" · "}
        <span className="text-muted-foreground">
          {cronjob.lastRunAt ? (
            <>
              last run <RelativeTime iso={cronjob.lastRunAt} />
            </>
          ) : (
            "never run"
          )}
        </span>
      </p>
      <p className="text-sm text-muted-foreground" data-testid="cronjob-settings-text">
        {describeSettings(cronjob)}
      </p>
      <NextRuns cronjob={cronjob} />
    </div>
  );
}

/** `selected`: the URL names this cronjob, the one whose runs were opened last (or a run's link to it). */
function CronjobItem({ boxId, cronjob, selected }: { boxId: string; cronjob: Cronjob; selected: boolean }) {
  const queryClient = useQueryClient();
  const invalidate = useInvalidateCronjobs();
  const switchId = useId();
  const [editing, setEditing] = useState(false);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const [showRuns, setShowRuns] = useState(selected);
  const [runRequest, setRunRequest] = useState<RunRequest | null>(null);
  const ids = { boxId, id: cronjob.id };

  const toggle = useMutation(orpc.cronjob.toggle.mutationOptions({ onSuccess: invalidate }));
  const update = useMutation(orpc.cronjob.update.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(
    orpc.cronjob.delete.mutationOptions({
      onSuccess: async () => {
        setConfirmingDelete(false);
        if (selected) {
          replaceSearchParam(BOX_TAB_ITEM_PARAM.cronjobs, null);
        }
        await invalidate();
      },
    }),
  );
  const runNow = useMutation({
    mutationFn: async () => {
      // Which execution is newest now, so the list knows when the requested one has been recorded.
      const before = await queryClient.ensureQueryData(executionsOptions(boxId, cronjob.id));
      await orpc.cronjob.run.call(ids);
      return { newestBefore: before[0]?.id ?? null };
    },
    onSuccess: async (request) => {
      setRunRequest(request);
      toggleRuns(true);
      await queryClient.invalidateQueries({ queryKey: orpc.cronjob.executions.key({ input: ids }) });
    },
  });

  function toggleRuns(open: boolean) {
    setShowRuns(open);
    if (open) {
      replaceSearchParam(BOX_TAB_ITEM_PARAM.cronjobs, cronjob.id);
    } else if (selected) {
      replaceSearchParam(BOX_TAB_ITEM_PARAM.cronjobs, null);
    }
  }

  async function save(input: CronjobFormInput) {
    await update.mutateAsync({ ...ids, ...input });
    setEditing(false);
  }

  const actionError = toggle.error ?? runNow.error;

  return (
    <li
      className={cn(
        "grid min-w-0 gap-3 rounded-xl border bg-card p-4 shadow-sm",
        selected && "border-primary",
      )}
      aria-current={selected || undefined}
      data-testid="cronjob-item"
      data-cronjob-id={cronjob.id}
      data-selected={selected}
      data-enabled={cronjob.enabled}
    >
      {editing ? (
        <>
          <h3 className="font-semibold break-words">Edit “{cronjob.name}”</h3>
          <CronjobForm
            initial={cronjob}
            submitLabel="Save changes"
            busyLabel="Saving…"
            onSubmit={save}
            onCancel={() => setEditing(false)}
            testId="cronjob-edit-form"
          />
        </>
      ) : (
        <>
          <div className="flex flex-col gap-3 sm:flex-row sm:items-start sm:justify-between">
            <CronjobSummary cronjob={cronjob} />
            <div className="flex flex-wrap items-center gap-2">
              <div className="flex items-center gap-2">
                <Switch
                  id={switchId}
                  checked={cronjob.enabled}
                  onCheckedChange={(enabled) => toggle.mutate({ ...ids, enabled })}
                  disabled={toggle.isPending}
                  aria-label={`Enabled: ${cronjob.name}`}
                  data-testid="cronjob-toggle"
                />
                <Label htmlFor={switchId} className="font-normal">
                  {cronjob.enabled ? "Enabled" : "Paused"}
                </Label>
              </div>
              <Button
                variant="outline"
                size="sm"
                onClick={() => runNow.mutate()}
                disabled={runNow.isPending}
                aria-label={`Run now: ${cronjob.name}`}
                data-testid="cronjob-run-now"
              >
                <PlayIcon aria-hidden />
                Run now
              </Button>
              <Button
                variant="outline"
                size="sm"
                onClick={() => setEditing(true)}
                aria-label={`Edit ${cronjob.name}`}
                data-testid="cronjob-edit"
              >
                Edit
              </Button>
              <Button
                variant="outline"
                size="sm"
                className="border-destructive/40 text-destructive hover:bg-destructive/10 hover:text-destructive"
                onClick={() => {
                  remove.reset();
                  setConfirmingDelete(true);
                }}
                aria-label={`Delete ${cronjob.name}`}
                data-testid="cronjob-delete"
              >
                Delete
              </Button>
            </div>
          </div>
          <p className="line-clamp-3 text-sm break-words whitespace-pre-wrap text-muted-foreground">
            {cronjob.prompt}
          </p>
          {actionError ? (
            <p className="text-sm text-destructive" role="alert" data-testid="cronjob-action-error">
              {toggle.error ? `Could not ${cronjob.enabled ? "pause" : "enable"} it` : "Could not run it"}:{" "}
              {errorMessage(actionError)}
            </p>
          ) : null}
          <div>
            <Button
              variant="link"
              size="sm"
              className="h-auto px-0"
              aria-expanded={showRuns}
              onClick={() => toggleRuns(!showRuns)}
              data-testid="cronjob-runs-toggle"
            >
              {showRuns ? <ChevronDownIcon aria-hidden /> : <ChevronRightIcon aria-hidden />}
              {showRuns ? "Hide runs" : "Show runs"}
            </Button>
          </div>
          {showRuns ? <Executions boxId={boxId} cronjobId={cronjob.id} request={runRequest} /> : null}
        </>
      )}
      <ConfirmDialog
        open={confirmingDelete}
        title={`Delete “${cronjob.name}”?`}
        confirmLabel="Delete cronjob"
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={() => remove.mutate(ids)}
        onCancel={() => setConfirmingDelete(false)}
      >
        <p>It stops running, and its run history is removed with it.</p>
      </ConfirmDialog>
    </li>
  );
}

/** Shows the runs of the cronjob the URL's `?cronjob=` names: a run's link to its cronjob lands on them. */
export function CronjobsPanel({ boxId }: { boxId: string }) {
  const invalidate = useInvalidateCronjobs();
  const cronjobs = useQuery(orpc.cronjob.list.queryOptions({ input: { boxId } }));
  const create = useMutation(orpc.cronjob.create.mutationOptions({ onSuccess: invalidate }));
  const list = cronjobs.data ?? [];
  const selectedId = useSearchParams().get(BOX_TAB_ITEM_PARAM.cronjobs);
  const listRef = useRef<HTMLUListElement>(null);

  // Arriving by a link, the page scrolls to that cronjob once the list is there (below the new-cronjob
  // form, it may be out of sight); later changes of the URL are the user's own, already in view.
  const arrivedAt = useRef(selectedId);
  useEffect(() => {
    const id = arrivedAt.current;
    if (id && cronjobs.isSuccess) {
      arrivedAt.current = null;
      listRef.current
        ?.querySelector(`[data-cronjob-id="${CSS.escape(id)}"]`)
        ?.scrollIntoView({ block: "start" });
    }
  }, [cronjobs.isSuccess]);

  return (
    <div className="grid min-w-0 gap-6" data-testid="cronjobs">
      <Card>
        <CardHeader>
          <CardTitle>New cronjob</CardTitle>
          <CardDescription>Wakes the box on a schedule and gives Claude the prompt.</CardDescription>
        </CardHeader>
        <CardContent>
          <CronjobForm
            submitLabel="Add cronjob"
            busyLabel="Adding…"
            onSubmit={(input) => create.mutateAsync({ boxId, ...input })}
            testId="cronjob-create-form"
          />
        </CardContent>
      </Card>

      <section className="grid min-w-0 gap-3" aria-labelledby="cronjob-list-title">
        <h2 id="cronjob-list-title" className="text-lg font-semibold">
          Cronjobs
        </h2>
        {cronjobs.isError ? (
          <ErrorState
            title="Could not load cronjobs"
            error={cronjobs.error}
            onRetry={() => cronjobs.refetch()}
            testId="cronjobs-error"
          />
        ) : null}
        {cronjobs.isPending ? <LoadingState label="Loading cronjobs…" testId="cronjobs-loading" /> : null}
        {cronjobs.isSuccess && list.length === 0 ? (
          <EmptyState title="No cronjobs yet" testId="cronjobs-empty">
            Add one above, for example a daily summary at <code className="font-mono">0 8 * * *</code>.
          </EmptyState>
        ) : null}
        {list.length > 0 ? (
          <ul ref={listRef} className="grid min-w-0 gap-3" data-testid="cronjob-list">
            {list.map((cronjob) => (
              <CronjobItem
                key={cronjob.id}
                boxId={boxId}
                cronjob={cronjob}
                selected={cronjob.id === selectedId}
              />
            ))}
          </ul>
        ) : null}
      </section>
    </div>
  );
}
