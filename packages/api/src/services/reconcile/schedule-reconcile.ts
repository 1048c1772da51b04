import { JOBS } from "@vps-claude/queue";
import type { ApiDeps } from "../../deps";

/** One id for every process: each worker upserts the same scheduler, so each tick is one job, run once. */
export const RECONCILE_SCHEDULER_ID = "platform-reconcile";

/**
 * Makes the reconciler's job scheduler fire every `reconcile.everyMs` (idempotent; a changed interval
 * replaces the old one). Every worker process calls it at start, so losing Redis's data is repaired
 * by the next worker start.
 */
export async function scheduleReconcile({ deps }: { deps: Pick<ApiDeps, "queues" | "config"> }) {
  await deps.queues.get("reconcile").upsertJobScheduler(
    RECONCILE_SCHEDULER_ID,
    { every: deps.config.reconcile.everyMs },
    {
      name: JOBS.reconcile.name,
      data: {},
      opts: {
        attempts: JOBS.reconcile.attempts,
        removeOnComplete: { count: 50 },
        removeOnFail: { count: 200 },
      },
    },
  );
}
