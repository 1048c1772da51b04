import type { Logger } from "@vps-claude/logger";
import { createWorker, JOBS } from "@vps-claude/queue";
import type { Redis } from "@vps-claude/redis";
import type { Worker } from "bullmq";
import type { ApiDeps } from "../deps";
import { reconcilePlatform } from "../services/reconcile/reconcile-platform";
import { scheduleReconcile } from "../services/reconcile/schedule-reconcile";

/**
 * The reconciler's worker and its scheduler. One pass at a time per process (concurrency 1); the
 * scheduler id is shared, so with many worker processes each tick still runs once. Redis refusing
 * the scheduler now is not fatal: it is set again every `everyMs` until Redis takes it.
 */
export function startReconcileWorker({
  deps,
  connection,
  prefix,
  logger,
}: {
  deps: ApiDeps;
  connection: Redis;
  prefix: string;
  logger: Logger;
}): { worker: Worker; scheduled: Promise<void>; stop(): void } {
  const worker = createWorker({
    job: JOBS.reconcile,
    connection,
    prefix,
    logger,
    concurrency: 1,
    handler: (_job, { logger: jobLogger }) => reconcilePlatform({ deps, logger: jobLogger }),
  });
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = async (): Promise<void> => {
    try {
      await scheduleReconcile({ deps });
    } catch (err) {
      if (stopped) {
        return;
      }
      logger.error({ err }, "the reconciler's schedule could not be set; retrying");
      retry = setTimeout(() => void schedule(), deps.config.reconcile.everyMs);
      retry.unref();
    }
  };
  return {
    worker,
    scheduled: schedule(),
    stop() {
      stopped = true;
      clearTimeout(retry);
    },
  };
}
