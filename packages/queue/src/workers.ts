import type { Logger } from "@vps-claude/logger";
import type { Redis } from "@vps-claude/redis";
import { type Job, UnrecoverableError, Worker, type WorkerOptions } from "bullmq";
import type { QueueJob } from "./catalog";

export interface CreateWorkerOptions {
  /** The queue to work and the per-attempt limit (the handler's AbortSignal fires when it is reached). */
  job: Pick<QueueJob, "queue" | "timeoutMs">;
  /** A worker connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  prefix: string;
  logger: Logger;
  concurrency?: number;
  handler: (job: Job, ctx: JobContext) => Promise<unknown>;
  workerOptions?: Partial<WorkerOptions>;
}

export interface JobContext {
  logger: Logger;
  /** This attempt's number, from 1. */
  attempt: number;
  /** How many attempts the job has in all. */
  attempts: number;
  /** No retry follows if this attempt fails: the place to record a final failure. */
  isFinalAttempt: boolean;
  /** Fires when the attempt reaches its time limit. */
  signal: AbortSignal;
  /** The worker's lock token, needed by BullMQ calls such as moveToWaitingChildren. */
  token: string | undefined;
}

export class JobTimeoutError extends Error {
  override name = "JobTimeoutError";
}

/**
 * The one way to say "do not retry": a job that throws it fails at once, whatever attempts remain
 * (bad configuration, a provider's refusal, a box that can never deploy). Services throw it; the
 * worker turns it into BullMQ's UnrecoverableError.
 */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

export function createWorker({
  job: { queue: queueName, timeoutMs },
  connection,
  prefix,
  logger,
  concurrency = 5,
  handler,
  workerOptions,
}: CreateWorkerOptions): Worker {
  const worker = new Worker(
    queueName,
    async (job, token) => {
      const attempt = job.attemptsMade + 1;
      const attempts = job.opts.attempts ?? 1;
      const jobLogger = logger.child({ queue: queueName, jobId: job.id, job: job.name, attempt });
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new JobTimeoutError(`${job.name} timed out after ${timeoutMs} ms`);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      });
      const ctx: JobContext = {
        logger: jobLogger,
        attempt,
        attempts,
        isFinalAttempt: attempt >= attempts,
        signal: controller.signal,
        token,
      };
      try {
        return await Promise.race([handler(job, ctx), timeout]);
      } catch (err) {
        if (err instanceof PermanentJobError) {
          throw new UnrecoverableError(err.message);
        }
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
    { connection, prefix, concurrency, ...workerOptions },
  );
  worker.on("error", (err) => logger.error({ err, queue: queueName }, "worker error"));
  worker.on("failed", (job, err) =>
    logger.warn({ err, queue: queueName, jobId: job?.id, attempts: job?.attemptsMade }, "job attempt failed"),
  );
  return worker;
}
