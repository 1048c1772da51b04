"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useId, useState } from "react";
import { EmptyState, ErrorState, LoadingState } from "@/components/panel-states";
import { RelativeTime } from "@/components/relative-time";
import { RunStatusBadge } from "@/components/run/run-status-badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { TRANSITIONAL_POLL_MS } from "@/lib/boxes-query";
import { formatCost, formatDuration } from "@/lib/format";
import { orpc } from "@/lib/orpc";
import {
  formatTokens,
  isLiveRun,
  RUN_STATUS_LABELS,
  RUN_STATUSES,
  RUN_TRIGGER_LABELS,
  RUN_TRIGGERS,
  type Run,
  type RunStatus,
  type RunTrigger,
  runPagePath,
} from "@/lib/runs";

const PAGE_SIZE = 25;
/** The Select's value for "no filter" (Radix reserves the empty string). */
const ANY = "any";
const PROMPT_PREVIEW_CHARS = 80;

function promptPreview(prompt: string): string {
  const line = prompt.trim().replace(/\s+/g, " ");
  return line.length > PROMPT_PREVIEW_CHARS ? `${line.slice(0, PROMPT_PREVIEW_CHARS - 1)}…` : line;
}

function FilterSelect<T extends string>({
  label,
  value,
  options,
  labels,
  onChange,
  testId,
}: {
  label: string;
  value: T | undefined;
  options: readonly T[];
  labels: Record<T, string>;
  onChange: (value: T | undefined) => void;
  testId: string;
}) {
  const id = useId();
  return (
    <div className="grid gap-1.5">
      <Label htmlFor={id}>{label}</Label>
      <Select
        value={value ?? ANY}
        onValueChange={(next) =>
          onChange(next === ANY ? undefined : options.find((option) => option === next))
        }
      >
        <SelectTrigger id={id} className="w-40" data-testid={testId}>
          <SelectValue />
        </SelectTrigger>
        <SelectContent>
          <SelectItem value={ANY}>Any</SelectItem>
          {options.map((option) => (
            <SelectItem key={option} value={option}>
              {labels[option]}
            </SelectItem>
          ))}
        </SelectContent>
      </Select>
    </div>
  );
}

function tokensOf(run: Run): string {
  if (run.inputTokens === null && run.outputTokens === null) {
    return "";
  }
  return `${formatTokens(run.inputTokens ?? 0)} / ${formatTokens(run.outputTokens ?? 0)}`;
}

function RunRow({ run }: { run: Run }) {
  return (
    <TableRow data-testid="run-row" data-run-id={run.id} data-status={run.status} data-trigger={run.trigger}>
      <TableCell className="max-w-72">
        <Link
          href={runPagePath(run.boxId, run.id)}
          className="block truncate font-medium text-foreground hover:underline"
          data-testid="run-link"
        >
          {promptPreview(run.prompt) || run.id}
        </Link>
      </TableCell>
      <TableCell>
        <RunStatusBadge status={run.status} />
      </TableCell>
      <TableCell>{RUN_TRIGGER_LABELS[run.trigger]}</TableCell>
      <TableCell className="whitespace-nowrap">
        <RelativeTime iso={run.startedAt ?? run.createdAt} />
      </TableCell>
      <TableCell className="whitespace-nowrap">{formatDuration(run.durationMs)}</TableCell>
      <TableCell className="whitespace-nowrap">{tokensOf(run)}</TableCell>
      <TableCell className="whitespace-nowrap">{formatCost(run.costUsd)}</TableCell>
    </TableRow>
  );
}

/** Every run of the box, newest first, filtered by trigger and status, a page at a time. */
export function RunsPanel({ boxId }: { boxId: string }) {
  const [trigger, setTrigger] = useState<RunTrigger | undefined>();
  const [status, setStatus] = useState<RunStatus | undefined>();
  const runs = useInfiniteQuery(
    orpc.run.list.infiniteOptions({
      input: (cursor: string | undefined) => ({
        boxId,
        limit: PAGE_SIZE,
        ...(trigger ? { trigger } : {}),
        ...(status ? { status } : {}),
        ...(cursor ? { cursor } : {}),
      }),
      initialPageParam: undefined,
      getNextPageParam: (page) => page.nextCursor ?? undefined,
      // Poll only while a run shown is still queued or running.
      refetchInterval: (query) =>
        query.state.data?.pages.some((page) => page.runs.some((run) => isLiveRun(run.status)))
          ? TRANSITIONAL_POLL_MS
          : false,
    }),
  );
  const list = runs.data?.pages.flatMap((page) => page.runs) ?? [];
  const filtered = trigger !== undefined || status !== undefined;

  return (
    <Card data-testid="runs-panel">
      <CardHeader>
        <CardTitle>Runs</CardTitle>
        <CardDescription>
          Every time Claude worked in this box: chats, emails, cronjobs and API calls.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid min-w-0 gap-4">
        <fieldset className="flex flex-wrap items-end gap-3">
          <legend className="sr-only">Filter runs</legend>
          <FilterSelect
            label="Trigger"
            value={trigger}
            options={RUN_TRIGGERS}
            labels={RUN_TRIGGER_LABELS}
            onChange={setTrigger}
            testId="runs-filter-trigger"
          />
          <FilterSelect
            label="Status"
            value={status}
            options={RUN_STATUSES}
            labels={RUN_STATUS_LABELS}
            onChange={setStatus}
            testId="runs-filter-status"
          />
        </fieldset>

        {runs.isPending ? (
          <LoadingState label="Loading the runs…" testId="runs-loading" />
        ) : runs.isError ? (
          <ErrorState
            title="Could not load the runs"
            error={runs.error}
            onRetry={() => runs.refetch()}
            testId="runs-load-error"
          />
        ) : list.length === 0 ? (
          <EmptyState title={filtered ? "No run matches these filters" : "No runs yet"} testId="runs-empty">
            {filtered
              ? null
              : "Chat with Claude, send the box an email or add a cronjob; each run shows here."}
          </EmptyState>
        ) : (
          <Table data-testid="runs-table">
            <TableHeader>
              <TableRow>
                <TableHead>Prompt</TableHead>
                <TableHead>Status</TableHead>
                <TableHead>Trigger</TableHead>
                <TableHead>Started</TableHead>
                <TableHead>Duration</TableHead>
                <TableHead>Tokens in / out</TableHead>
                <TableHead>Cost</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {list.map((run) => (
                <RunRow key={run.id} run={run} />
              ))}
            </TableBody>
          </Table>
        )}

        {runs.hasNextPage ? (
          <Button
            variant="outline"
            className="justify-self-start"
            onClick={() => runs.fetchNextPage()}
            disabled={runs.isFetchingNextPage}
            data-testid="runs-load-more"
          >
            {runs.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
        ) : null}
      </CardContent>
    </Card>
  );
}
