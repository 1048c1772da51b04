"use client";

import { Loader2Icon } from "lucide-react";
import Link from "next/link";
import type { ReactNode } from "react";
import { EmptyState, ErrorState, LoadingState } from "@/components/panel-states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { asApiError, errorMessage } from "@/lib/api-error";
import { formatCost, formatDateTime, formatDuration } from "@/lib/format";
import {
  formatTokens,
  isLiveRun,
  RUN_STATUS_LABELS,
  RUN_TRIGGER_LABELS,
  type RunDetail,
  runOrigin,
  runPagePath,
  transcriptEvents,
} from "@/lib/runs";
import { Elapsed } from "./elapsed";
import { RunActions } from "./run-actions";
import { RunStatusBadge } from "./run-status-badge";
import { Transcript } from "./transcript";
import { type LiveConnection, useLiveRun } from "./use-live-run";

const CRUMB = "text-muted-foreground hover:text-foreground hover:underline";

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="grid gap-0.5">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="text-sm break-words" data-testid={testId}>
        {children || "—"}
      </dd>
    </div>
  );
}

function RunFacts({ run }: { run: RunDetail }) {
  const tokens = [
    run.inputTokens !== null ? `${formatTokens(run.inputTokens)} in` : null,
    run.outputTokens !== null ? `${formatTokens(run.outputTokens)} out` : null,
    run.cacheReadTokens ? `${formatTokens(run.cacheReadTokens)} cache read` : null,
    run.cacheWriteTokens ? `${formatTokens(run.cacheWriteTokens)} cache write` : null,
  ].filter(Boolean);
  return (
    <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4" data-testid="run-facts">
      <Fact label="Trigger">{RUN_TRIGGER_LABELS[run.trigger]}</Fact>
      <Fact label="Created">{formatDateTime(run.createdAt)}</Fact>
      <Fact label="Started">{formatDateTime(run.startedAt)}</Fact>
      <Fact label="Ended">{formatDateTime(run.completedAt)}</Fact>
      <Fact label="Duration" testId="run-duration">
        {run.durationMs !== null ? (
          formatDuration(run.durationMs)
        ) : run.startedAt && isLiveRun(run.status) ? (
          <>
            <Elapsed since={run.startedAt} /> so far
          </>
        ) : null}
      </Fact>
      <Fact label="Tokens" testId="run-tokens">
        {tokens.join(" · ")}
      </Fact>
      <Fact label="Cost" testId="run-cost">
        {formatCost(run.costUsd)}
      </Fact>
      <Fact label="Model">{run.model}</Fact>
    </dl>
  );
}

/** The sentence a screen reader hears when the run moves on; shown too, beside the badge. */
function statusSentence(run: RunDetail, connection: LiveConnection): string {
  if (run.status === "queued") {
    return "Waiting for the box to start this run…";
  }
  if (run.status === "running") {
    return connection === "reconnecting"
      ? "Claude is working; the live connection dropped and is being restored…"
      : "Claude is working; the transcript follows live.";
  }
  return `The run ${RUN_STATUS_LABELS[run.status].toLowerCase()}${
    run.durationMs !== null ? ` after ${formatDuration(run.durationMs)}` : ""
  }.`;
}

function RunOriginLinks({ run }: { run: RunDetail }) {
  const origin = runOrigin(run);
  if (!origin && !run.retryOf) {
    return null;
  }
  return (
    <p className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
      {origin ? (
        <span>
          Started by{" "}
          <Link
            href={origin.href}
            className="text-foreground underline underline-offset-4"
            data-testid="run-origin"
          >
            {origin.label}
          </Link>
        </span>
      ) : null}
      {run.retryOf ? (
        <span>
          Retries{" "}
          <Link
            href={runPagePath(run.boxId, run.retryOf)}
            className="font-mono text-foreground underline underline-offset-4"
            data-testid="run-retry-of"
          >
            {run.retryOf}
          </Link>
        </span>
      ) : null}
    </p>
  );
}

function RunBody({ run, streamError }: { run: RunDetail; streamError: unknown }) {
  const live = isLiveRun(run.status);
  const lastText = transcriptEvents(run.events).findLast((event) => event.type === "text");
  const resultShown = lastText?.type === "text" && lastText.text.trim() === run.result?.trim();
  return (
    <>
      <Card>
        <CardHeader>
          <CardTitle>Details</CardTitle>
        </CardHeader>
        <CardContent className="grid gap-4">
          <RunFacts run={run} />
          <RunOriginLinks run={run} />
        </CardContent>
      </Card>

      <Card>
        <CardHeader>
          <CardTitle>Prompt</CardTitle>
        </CardHeader>
        <CardContent>
          <p className="text-sm whitespace-pre-wrap break-words" data-testid="run-prompt">
            {run.prompt}
          </p>
        </CardContent>
      </Card>

      <Card>
        <CardHeader>
          <CardTitle>Transcript</CardTitle>
        </CardHeader>
        <CardContent className="grid gap-3">
          <Transcript events={run.events} />
          {live ? (
            <p className="flex items-center gap-2 text-sm text-muted-foreground" data-testid="run-working">
              <Loader2Icon className="size-4 animate-spin" aria-hidden /> Claude is working…
            </p>
          ) : transcriptEvents(run.events).length === 0 ? (
            <p className="text-sm text-muted-foreground">Nothing was recorded for this run.</p>
          ) : null}
          {run.result && !resultShown ? (
            <div className="grid gap-1 border-t pt-3">
              <p className="text-xs font-medium text-muted-foreground">Result</p>
              <p className="text-sm whitespace-pre-wrap break-words" data-testid="run-result">
                {run.result}
              </p>
            </div>
          ) : null}
          {run.error ? (
            <p className="text-sm text-destructive whitespace-pre-wrap break-words" data-testid="run-error">
              {run.error}
            </p>
          ) : null}
          {streamError ? (
            <p className="text-sm text-destructive" role="alert" data-testid="run-stream-error">
              The live view stopped: {errorMessage(streamError)}. Reload the page to follow the run again.
            </p>
          ) : null}
        </CardContent>
      </Card>
    </>
  );
}

/** The run page: where the run stands, what it cost, its prompt and its transcript, live while it works. */
export function RunView({ boxId, boxName, runId }: { boxId: string; boxName: string; runId: string }) {
  const { query, run, connection, streamError } = useLiveRun(boxId, runId);
  const boxHref = `/boxes/${encodeURIComponent(boxId)}`;

  return (
    <div className="grid min-w-0 gap-6" data-testid="run-page" data-run-id={runId} data-status={run?.status}>
      <nav
        aria-label="Breadcrumb"
        className="flex flex-wrap items-center gap-1 text-sm text-muted-foreground"
      >
        <Link href="/" className={CRUMB}>
          Boxes
        </Link>
        <span aria-hidden>/</span>
        <Link href={boxHref} className={CRUMB}>
          {boxName}
        </Link>
        <span aria-hidden>/</span>
        <Link href={`${boxHref}?tab=runs`} className={CRUMB} data-testid="run-back">
          Runs
        </Link>
      </nav>

      <div className="flex flex-col gap-3 sm:flex-row sm:items-start sm:justify-between">
        <div className="grid min-w-0 gap-1">
          <div className="flex flex-wrap items-center gap-2">
            <h1 className="text-2xl font-semibold tracking-tight">Run</h1>
            {run ? (
              <>
                <RunStatusBadge status={run.status} />
                <Badge variant="outline">{RUN_TRIGGER_LABELS[run.trigger]}</Badge>
              </>
            ) : null}
          </div>
          <p className="truncate font-mono text-xs text-muted-foreground">{runId}</p>
          {run ? (
            <p
              className="text-sm text-muted-foreground"
              role="status"
              aria-live="polite"
              data-testid="run-status-text"
            >
              {statusSentence(run, connection)}
            </p>
          ) : null}
        </div>
        {run ? <RunActions run={run} /> : null}
      </div>

      {query.isPending ? (
        <LoadingState label="Loading the run…" testId="run-loading" />
      ) : query.isError ? (
        asApiError(query.error)?.status === 404 ? (
          <EmptyState title="This run does not exist" testId="run-not-found">
            It may belong to another box.{" "}
            <Button asChild variant="link" className="h-auto p-0">
              <Link href={`${boxHref}?tab=runs`}>See the box's runs</Link>
            </Button>
          </EmptyState>
        ) : (
          <ErrorState
            title="Could not load the run"
            error={query.error}
            onRetry={() => query.refetch()}
            testId="run-load-error"
          />
        )
      ) : (
        <RunBody run={query.data} streamError={streamError} />
      )}
    </div>
  );
}
