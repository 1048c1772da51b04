import { createWorker, JOBS } from "@vps-claude/queue";
import type { Redis } from "@vps-claude/redis";
import type { Worker } from "bullmq";
import type { ApiDeps } from "../deps";
import { teardownDeletedBox } from "../services/box/teardown-deleted-box";
import { reconcileCronjobSchedules } from "../services/cronjob/sync-cronjob-schedule";
import { triggerCronjob } from "../services/cronjob/trigger-cronjob";
import type { DeployRuntime } from "../services/deploy/deploy-runtime";
import { deliverInboundEmail } from "../services/email/deliver-inbound-email";
import { sendOutboundEmail } from "../services/email/send-outbound-email";
import { sendBudgetAlert } from "../services/usage/budget-alerts";
import { startDeployWorkers } from "./deploy";
import { startFollowRunWorker } from "./follow-run";
import { startReconcileWorker } from "./reconcile";

/**
 * Cron ticks one process takes at once. Ticks come in herds at minute boundaries (10,000 schedules
 * spread over the hour put ~170 on each minute), and a tick only records itself and hands its run
 * over: a few queries, most of its time spent waiting on Postgres, which more at once overlap.
 */
export const CRON_TICKS_AT_ONCE = 50;

/** Milliseconds from `now` to the next moment 30 s past a minute. */
function untilHalfMinute(now: number): number {
  return 60_000 - ((now + 30_000) % 60_000);
}

export interface StartWorkersOptions {
  deps: ApiDeps;
  /** A worker connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  prefix: string;
  /** The sandbox side of deploys and deletes. */
  runtime: DeployRuntime;
  /** How often schedulers are reconciled against the cronjob table. */
  reconcileEveryMs?: number;
  /** BullMQ lock duration for deploy steps (how soon a dead worker's step is retried). */
  lockDurationMs?: number;
}

export interface RunningWorkers {
  workers: Worker[];
  close(): Promise<void>;
}

export async function startWorkers({
  deps,
  connection,
  prefix,
  runtime,
  reconcileEveryMs = 60_000,
  lockDurationMs,
}: StartWorkersOptions): Promise<RunningWorkers> {
  const logger = deps.logger.child({ component: "workers" });
  const workers: Worker[] = [
    ...startDeployWorkers({ deps, runtime, connection, prefix, logger, lockDurationMs }),

    createWorker({
      job: JOBS.deleteBox,
      connection,
      prefix,
      logger,
      handler: (job, { logger: jobLogger, isFinalAttempt }) => {
        const { boxId } = JOBS.deleteBox.schema.parse(job.data);
        return teardownDeletedBox({ deps, runtime, boxId, isFinalAttempt, logger: jobLogger });
      },
    }),

    createWorker({
      job: JOBS.deliverEmail,
      connection,
      prefix,
      logger,
      concurrency: 10,
      handler: (job, { attempt, isFinalAttempt }) => {
        const { emailId } = JOBS.deliverEmail.schema.parse(job.data);
        return deliverInboundEmail({ deps, emailId, attempt, isFinalAttempt });
      },
    }),

    createWorker({
      job: JOBS.sendEmail,
      connection,
      prefix,
      logger,
      concurrency: 10,
      handler: (job, { attempt, isFinalAttempt }) => {
        const { emailId } = JOBS.sendEmail.schema.parse(job.data);
        return sendOutboundEmail({ deps, emailId, attempt, isFinalAttempt });
      },
    }),

    createWorker({
      job: JOBS.budgetAlert,
      connection,
      prefix,
      logger,
      handler: (job, { isFinalAttempt }) => {
        const { alertId } = JOBS.budgetAlert.schema.parse(job.data);
        return sendBudgetAlert({ deps, alertId, isFinalAttempt });
      },
    }),

    createWorker({
      job: JOBS.triggerCronjob,
      connection,
      prefix,
      logger,
      concurrency: CRON_TICKS_AT_ONCE,
      handler: (job) => {
        const { cronjobId } = JOBS.triggerCronjob.schema.parse(job.data);
        // A scheduler's job carries the tick it fires for; a manual run uses the moment it was queued.
        const scheduledFor = new Date(Number(job.opts.prevMillis ?? job.timestamp));
        return triggerCronjob({ deps, cronjobId, scheduledFor });
      },
    }),
  ];

  // Runs: each dispatched to its box and followed to its end (services/run/follow-run).
  const follower = startFollowRunWorker({ deps, connection, prefix, logger });
  workers.push(follower.worker);

  // The reconciler: resolves runs, ticks, deliveries and deploys left unfinished (services/reconcile).
  const reconciler = startReconcileWorker({ deps, connection, prefix, logger });
  workers.push(reconciler.worker);
  await reconciler.scheduled;

  const reconcile = async () => {
    try {
      const result = await reconcileCronjobSchedules({ deps });
      logger.debug(result, "cronjob schedules reconciled");
    } catch (err) {
      logger.warn({ err }, "cronjob schedule reconciliation failed; will retry");
    }
  };
  await reconcile();
  // Periodic passes run half a minute off the minute boundaries, where cron herds fire: a pass over
  // 10,000 schedules takes the process's CPU for about half a second.
  let timer: NodeJS.Timeout = setTimeout(() => {
    void reconcile();
    timer = setInterval(reconcile, reconcileEveryMs);
    timer.unref();
  }, untilHalfMinute(Date.now()));
  timer.unref();

  return {
    workers,
    async close() {
      // One call for either: Node's timers share one handle type.
      clearTimeout(timer);
      reconciler.stop();
      follower.stop();
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
