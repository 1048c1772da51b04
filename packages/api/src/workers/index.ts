import { createWorker, JOBS } from "@vps-claude/queue";
import type { Redis } from "@vps-claude/redis";
import type { Worker } from "bullmq";
import type { ApiDeps } from "../deps";
import { removeDeletedBox } from "../services/box/remove-box";
import { reconcileCronjobSchedules } from "../services/cronjob/sync-cronjob-schedule";

export interface WorkerHooks {
  /** Tears down a box's sandbox before its rows go; absent until a sandbox provider is configured. */
  destroySandbox?: (boxId: string) => Promise<void>;
}

export interface StartWorkersOptions {
  deps: ApiDeps;
  /** A worker connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  prefix: string;
  hooks?: WorkerHooks;
  /** How often schedulers are reconciled against the cronjob table. */
  reconcileEveryMs?: number;
}

export interface RunningWorkers {
  workers: Worker[];
  close(): Promise<void>;
}

export async function startWorkers({
  deps,
  connection,
  prefix,
  hooks = {},
  reconcileEveryMs = 60_000,
}: StartWorkersOptions): Promise<RunningWorkers> {
  const logger = deps.logger.child({ component: "workers" });
  const workers: Worker[] = [
    createWorker({
      queue: "deleteBox",
      connection,
      prefix,
      logger,
      timeoutMs: JOBS.deleteBox.timeoutMs,
      handler: async (job, { logger: jobLogger }) => {
        const { boxId } = JOBS.deleteBox.schema.parse(job.data);
        await hooks.destroySandbox?.(boxId);
        const removed = await removeDeletedBox({ db: deps.db, boxId });
        jobLogger.info({ boxId, removed }, "box deleted");
        return { removed };
      },
    }),
  ];

  const reconcile = async () => {
    try {
      const result = await reconcileCronjobSchedules({ deps });
      logger.debug(result, "cronjob schedules reconciled");
    } catch (err) {
      logger.warn({ err }, "cronjob schedule reconciliation failed; will retry");
    }
  };
  await reconcile();
  const timer = setInterval(reconcile, reconcileEveryMs);
  timer.unref();

  return {
    workers,
    async close() {
      clearInterval(timer);
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
