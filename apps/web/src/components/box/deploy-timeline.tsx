"use client";

import { useQuery } from "@tanstack/react-query";
import { CheckIcon, CircleIcon, Loader2Icon, MinusIcon, XIcon } from "lucide-react";
import { type ReactNode, useEffect, useRef } from "react";
import { Badge } from "@/components/ui/badge";
import { Card, CardAction, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import type { BoxStatus } from "@/lib/box";
import type { DeployStep, DeployStepStatus, DeploySteps } from "@/lib/box-api";
import { formatDuration } from "@/lib/format";
import { orpc } from "@/lib/orpc";
import { cn } from "@/lib/utils";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";

/** Steps change every second or so while a deploy runs. */
const DEPLOY_POLL_MS = 1500;

const STEP_ICONS: Record<DeployStepStatus, ReactNode> = {
  pending: <CircleIcon className="size-3 text-muted-foreground" />,
  running: <Loader2Icon className="size-4 animate-spin text-warning" />,
  completed: <CheckIcon className="size-4 text-success" />,
  failed: <XIcon className="size-4 text-destructive" />,
  skipped: <MinusIcon className="size-4 text-muted-foreground" />,
};

const STEP_STATUS_TEXT: Record<DeployStepStatus, string> = {
  pending: "waiting",
  running: "running",
  completed: "done",
  failed: "failed",
  skipped: "skipped",
};

function stepTiming(step: DeployStep, now: number): string {
  if (step.durationMs !== null) {
    return formatDuration(step.durationMs);
  }
  if (step.status === "running" && step.startedAt) {
    return `${formatDuration(now - new Date(step.startedAt).getTime())} so far`;
  }
  return "";
}

function DeployStepItem({ step }: { step: DeployStep }) {
  const timing = stepTiming(step, Date.now());
  return (
    <li
      className="flex gap-3 border-l-2 py-2 pl-3 data-[status=failed]:border-destructive data-[status=running]:border-warning"
      data-testid="deploy-step"
      data-step={step.step}
      data-status={step.status}
    >
      <span className="flex size-5 shrink-0 items-center justify-center" aria-hidden="true">
        {STEP_ICONS[step.status]}
      </span>
      <div className="grid min-w-0 flex-1 gap-1">
        <div className="flex flex-wrap items-center gap-2 text-sm">
          <span className={cn("font-medium", step.status === "pending" && "text-muted-foreground")}>
            {step.label}
          </span>
          <span className="sr-only">, {STEP_STATUS_TEXT[step.status]}</span>
          {step.attempt > 1 ? <Badge variant="outline">attempt {step.attempt}</Badge> : null}
          {timing ? <span className="text-xs text-muted-foreground">{timing}</span> : null}
        </div>
        {step.errorMessage ? (
          <p className="text-sm break-words text-destructive" data-testid="deploy-step-error">
            {step.errorMessage}
          </p>
        ) : null}
        {step.logExcerpt ? (
          <details className="text-sm">
            <summary className="cursor-pointer text-muted-foreground">Log</summary>
            <pre
              className="mt-1 max-h-64 overflow-auto rounded-md bg-muted p-2 font-mono text-xs"
              data-testid="deploy-step-log"
            >
              {step.logExcerpt}
            </pre>
          </details>
        ) : null}
      </div>
    </li>
  );
}

function StepList({ data }: { data: DeploySteps }) {
  const failed = data.steps.filter((step) => step.status === "failed").length;
  const done = data.steps.filter((step) => step.status === "completed" || step.status === "skipped").length;
  return (
    <>
      <p className="text-sm text-muted-foreground" data-testid="deploy-progress">
        {done} of {data.steps.length} steps done{failed > 0 ? `, ${failed} failed` : ""}
        {data.deployId ? (
          <>
            {" "}
            · deploy <code className="break-all">{data.deployId}</code>
          </>
        ) : null}
      </p>
      <ol className="grid gap-1" aria-label="Deploy steps" data-testid="deploy-steps">
        {data.steps.map((step) => (
          <DeployStepItem key={step.step} step={step} />
        ))}
      </ol>
    </>
  );
}

interface DeployTimelineProps {
  boxId: string;
  status: BoxStatus;
  /** Changes whenever the box does, e.g. after a redeploy: the steps are loaded again then. */
  boxUpdatedAt: string;
}

/** The steps of the box's latest deploy, polled only while it deploys. */
export function DeployTimeline({ boxId, status, boxUpdatedAt }: DeployTimelineProps) {
  const deploying = status === "pending" || status === "deploying";
  const steps = useQuery(
    orpc.deploy.steps.queryOptions({
      input: { boxId },
      refetchInterval: deploying ? DEPLOY_POLL_MS : false,
    }),
  );
  const { refetch } = steps;

  // The box moved on (a redeploy began, or the deploy ended): load the steps at once, not at the next poll.
  const signature = `${status}|${boxUpdatedAt}`;
  const seenSignature = useRef(signature);
  useEffect(() => {
    if (seenSignature.current !== signature) {
      seenSignature.current = signature;
      void refetch();
    }
  }, [signature, refetch]);

  let content: ReactNode;
  if (steps.isPending) {
    content = <LoadingState label="Loading deploy steps…" testId="deploy-loading" />;
  } else if (steps.isError && steps.data === undefined) {
    content = (
      <ErrorState
        title="Could not load the deploy steps"
        error={steps.error}
        onRetry={refetch}
        testId="deploy-error"
      />
    );
  } else if (steps.data.steps.length === 0) {
    content = (
      <EmptyState
        title={deploying ? "Waiting for the deploy to start…" : "No deploy has run yet"}
        testId="deploy-empty"
      >
        {deploying
          ? "The steps appear here as soon as a worker picks the deploy up."
          : "Redeploy to start one."}
      </EmptyState>
    );
  } else {
    content = (
      <>
        <StepList data={steps.data} />
        {steps.isRefetchError ? (
          <ErrorState title="Could not refresh the deploy steps" error={steps.error} onRetry={refetch} />
        ) : null}
      </>
    );
  }

  return (
    <Card
      role="region"
      aria-labelledby="deploy-title"
      data-testid="deploy-timeline"
      aria-busy={deploying || undefined}
    >
      <CardHeader>
        <CardTitle id="deploy-title">Deploy</CardTitle>
        {deploying ? (
          <CardAction>
            <span className="flex items-center gap-2 text-sm text-muted-foreground" role="status">
              <span className="size-2 animate-pulse rounded-full bg-warning" aria-hidden /> Updating live
            </span>
          </CardAction>
        ) : null}
      </CardHeader>
      <CardContent className="grid gap-3">{content}</CardContent>
    </Card>
  );
}
