import { boxRun } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import { asc, inArray } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { completeRun } from "../run/complete-run";
import { runDeadline } from "../run/run-deadline";
import type { RunRow } from "../run/run-origin";
import { describeDuration } from "./describe-duration";
import { findJob, readdJob } from "./lost-jobs";

/** Runs looked at per tick, oldest first; the rest wait for the next tick. */
const BATCH = 1_000;

function interruptReason(run: RunRow, graceMs: number): string {
  const limit = `its ${describeDuration(run.maxDurationMs)} limit and ${describeDuration(graceMs)} of grace`;
  return run.status === "queued"
    ? `the run never started: the box did not take it up within ${limit}`
    : `no final event came from the box within ${limit} (the box or its follower stopped)`;
}

/**
 * Runs that have not ended. One past its deadline (runDeadline) is ended `interrupted`
 * through completeRun, which also ends what started it, unless it is still `queued` and its follower
 * is alive: then it waits its turn in the box's queue behind other runs, and the follower's own
 * time limit bounds that wait. One not past its deadline whose follow job is gone (lost with Redis,
 * failed for good while the run went on) gets its follow job again, so no run is stranded.
 */
export async function reconcileRuns({
  deps,
  now,
  logger,
}: {
  deps: ApiDeps;
  now: Date;
  logger: Logger;
}): Promise<{ interrupted: string[]; followed: string[] }> {
  const { runGraceMs, lostJobAfterMs } = deps.config.reconcile;
  const open = await deps.db
    .select()
    .from(boxRun)
    .where(inArray(boxRun.status, ["queued", "running"]))
    .orderBy(asc(boxRun.createdAt))
    .limit(BATCH);
  const queue = deps.queues.get("followRun");
  const interrupted: string[] = [];
  const followed: string[] = [];
  for (const run of open) {
    try {
      if (now.getTime() > runDeadline(run, runGraceMs).getTime()) {
        const waitingItsTurn = run.status === "queued" && (await findJob(queue, run.id)).live;
        if (!waitingItsTurn) {
          const { ended } = await completeRun({
            deps,
            runId: run.id,
            end: { status: "interrupted", error: interruptReason(run, runGraceMs) },
          });
          if (ended) {
            interrupted.push(run.id);
          }
        }
        continue;
      }
      // A run just started has its follow job on the way (startRun adds it after the row commits).
      if (now.getTime() - run.createdAt.getTime() < lostJobAfterMs) {
        continue;
      }
      const outcome = await readdJob({
        queue,
        jobId: run.id,
        add: () => deps.queues.enqueue("followRun", { runId: run.id }, { jobId: run.id }),
      });
      if (outcome === "added") {
        followed.push(run.id);
      }
    } catch (err) {
      // One run's trouble must not keep the others from being resolved.
      logger.warn({ err, runId: run.id }, "could not reconcile a run; next tick retries");
    }
  }
  return { interrupted, followed };
}
