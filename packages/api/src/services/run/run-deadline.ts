import type { RunRow } from "./run-origin";

/**
 * When a run that has not ended is given up on: its own limit from when it started (or, never
 * started, from when it was queued), plus grace for its final event to arrive. box-agent itself ends
 * a run at its limit, so past this only a lost box or a lost follower keeps it open.
 */
export function runDeadline(
  run: Pick<RunRow, "startedAt" | "createdAt" | "maxDurationMs">,
  graceMs: number,
): Date {
  return new Date((run.startedAt ?? run.createdAt).getTime() + run.maxDurationMs + graceMs);
}
