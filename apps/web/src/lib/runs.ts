import { boxItemPath } from "./box-tabs";
import type { UserApi } from "./orpc";

export { RUN_STATUSES, RUN_TRIGGERS } from "@vps-claude/contract";

/** A run with its transcript so far (`GET …/runs/{runId}`), timestamps as ISO strings. */
export type RunDetail = Awaited<ReturnType<UserApi["run"]["get"]>>;
/** A run as the list, cancel and the stream's end answer it (no transcript). */
export type Run = Awaited<ReturnType<UserApi["run"]["cancel"]>>;
export type RunEvent = RunDetail["events"][number];
export type RunStatus = Run["status"];
export type RunTrigger = Run["trigger"];

export const RUN_TRIGGER_LABELS: Record<RunTrigger, string> = {
  chat: "Chat",
  email: "Email",
  cron: "Cronjob",
  api: "API",
};

export const RUN_STATUS_LABELS: Record<RunStatus, string> = {
  queued: "Queued",
  running: "Running",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};

/** A run in one of these states changes on its own: views follow it live or poll. */
export function isLiveRun(status: RunStatus): boolean {
  return status === "queued" || status === "running";
}

/** The ends the API retries from (a completed run is not redone). */
export function isRetryableRun(status: RunStatus): boolean {
  return status === "failed" || status === "interrupted" || status === "cancelled";
}

export function runPagePath(boxId: string, runId: string): string {
  return `/boxes/${encodeURIComponent(boxId)}/runs/${encodeURIComponent(runId)}`;
}

/** Where a run came from, as a place in the box page: the email it answered, the cronjob that fired it. */
export function runOrigin(run: Run): { href: string; label: string } | null {
  if (run.emailId) {
    return { href: boxItemPath(run.boxId, "email", run.emailId), label: "the email it answers" };
  }
  if (run.cronjobId) {
    return { href: boxItemPath(run.boxId, "cronjobs", run.cronjobId), label: "its cronjob" };
  }
  return null;
}

/** The events a transcript shows: the stream's own end (`done`) is the run's status, not a line of it. */
export function transcriptEvents(events: readonly RunEvent[]): RunEvent[] {
  return events.filter((event) => event.type !== "done");
}

export function lastSeq(run: RunDetail | undefined): number {
  return run?.events.at(-1)?.seq ?? 0;
}

/**
 * The run after one more event of its stream: appended once (a resumed stream never repeats one, but
 * a refetch may already hold it), and a status event moves the run along.
 */
export function applyRunEvent(run: RunDetail, event: RunEvent): RunDetail {
  if (event.seq <= lastSeq(run)) {
    return run;
  }
  const events = [...run.events, event];
  if (event.type !== "status") {
    return { ...run, events };
  }
  return {
    ...run,
    events,
    status: event.status,
    startedAt: event.status === "running" ? (run.startedAt ?? event.at) : run.startedAt,
    sessionId: event.sessionId ?? run.sessionId,
  };
}

/** The run as its stream's end reported it, with the transcript the stream brought. */
export function finishRun(run: RunDetail, finished: Run): RunDetail {
  return { ...run, ...finished, events: run.events };
}

export function formatTokens(count: number | null): string {
  return count === null ? "" : count.toLocaleString("en");
}
