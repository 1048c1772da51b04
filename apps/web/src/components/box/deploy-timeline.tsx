"use client";

import { type ReactNode, useCallback, useEffect, useRef } from "react";
import type { BoxStatus } from "@/lib/box";
import { type DeployStep, type DeployStepStatus, deployApi } from "@/lib/box-api";
import { formatDuration } from "@/lib/format";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { usePolling } from "../use-polling";
import { useResource } from "../use-resource";

/** Steps change every second or so while a deploy runs. */
const DEPLOY_POLL_MS = 1500;

const STEP_ICONS: Record<DeployStepStatus, string> = {
  pending: "",
  running: "◔",
  completed: "✓",
  failed: "✕",
  skipped: "–",
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
      className={`timeline-step timeline-${step.status}`}
      data-testid="deploy-step"
      data-step={step.step}
      data-status={step.status}
    >
      <span className="timeline-icon" aria-hidden="true">
        {step.status === "running" ? <span className="spinner spinner-small" /> : STEP_ICONS[step.status]}
      </span>
      <div className="timeline-body">
        <div className="timeline-head">
          <span className="timeline-label">{step.label}</span>
          <span className="visually-hidden">, {STEP_STATUS_TEXT[step.status]}</span>
          {step.attempt > 1 ? <span className="tag tag-small">attempt {step.attempt}</span> : null}
          {timing ? <span className="muted small timeline-duration">{timing}</span> : null}
        </div>
        {step.errorMessage ? (
          <p className="timeline-error" data-testid="deploy-step-error">
            {step.errorMessage}
          </p>
        ) : null}
        {step.logExcerpt ? (
          <details className="timeline-log">
            <summary>Log</summary>
            <pre data-testid="deploy-step-log">{step.logExcerpt}</pre>
          </details>
        ) : null}
      </div>
    </li>
  );
}

interface DeployTimelineProps {
  boxId: string;
  status: BoxStatus;
  /** Changes whenever the box does, e.g. after a redeploy: the steps are loaded again then. */
  boxUpdatedAt: string;
}

/** The steps of the box's latest deploy, live while it runs. */
export function DeployTimeline({ boxId, status, boxUpdatedAt }: DeployTimelineProps) {
  const load = useCallback(() => deployApi.steps(boxId), [boxId]);
  const steps = useResource(load);
  const { reload } = steps;
  const deploying = status === "pending" || status === "deploying";

  // The box moved on (a redeploy began, or the deploy ended): load the steps at once, not at the next poll.
  const signature = `${status}|${boxUpdatedAt}`;
  const seenSignature = useRef(signature);
  useEffect(() => {
    if (seenSignature.current !== signature) {
      seenSignature.current = signature;
      void reload();
    }
  }, [signature, reload]);

  usePolling(reload, deploying ? DEPLOY_POLL_MS : null);

  let content: ReactNode;
  if (steps.data === undefined) {
    content = steps.error ? (
      <ErrorState
        title="Could not load the deploy steps"
        error={steps.error}
        onRetry={reload}
        testId="deploy-error"
      />
    ) : (
      <LoadingState label="Loading deploy steps…" testId="deploy-loading" />
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
    const failed = steps.data.steps.filter((step) => step.status === "failed").length;
    const done = steps.data.steps.filter(
      (step) => step.status === "completed" || step.status === "skipped",
    ).length;
    content = (
      <>
        <p className="muted small" data-testid="deploy-progress">
          {done} of {steps.data.steps.length} steps done{failed > 0 ? `, ${failed} failed` : ""}
          {steps.data.deployId ? (
            <>
              {" "}
              · deploy <code>{steps.data.deployId}</code>
            </>
          ) : null}
        </p>
        <ol className="timeline" aria-label="Deploy steps" data-testid="deploy-steps">
          {steps.data.steps.map((step) => (
            <DeployStepItem key={step.step} step={step} />
          ))}
        </ol>
        {steps.error ? (
          <ErrorState title="Could not refresh the deploy steps" error={steps.error} onRetry={reload} />
        ) : null}
      </>
    );
  }

  return (
    <section
      className="card"
      aria-labelledby="deploy-title"
      data-testid="deploy-timeline"
      aria-busy={deploying || undefined}
    >
      <div className="card-heading">
        <h2 id="deploy-title" className="card-title">
          Deploy
        </h2>
        {deploying ? (
          <span className="live-indicator" role="status">
            <span className="status-dot" aria-hidden="true" /> Updating live
          </span>
        ) : null}
      </div>
      {content}
    </section>
  );
}
