import type { Logger } from "@vps-claude/logger";
import type { Redis } from "@vps-claude/redis";
import { type Job, Worker, type WorkerOptions } from "bullmq";
import { QUEUES, type QueueKey } from "./catalog";

export interface CreateWorkerOptions {
  queue: QueueKey;
  /** A worker connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  prefix: string;
  logger: Logger;
  concurrency?: number;
  /** Per-attempt limit; the handler receives an AbortSignal that fires when it is reached. */
  timeoutMs: number;
  handler: (job: Job, ctx: JobContext) => Promise<unknown>;
  workerOptions?: Partial<WorkerOptions>;
}

export interface JobContext {
  logger: Logger;
  /** Fires when the attempt reaches its time limit. */
  signal: AbortSignal;
  /** The worker's lock token, needed by BullMQ calls such as moveToWaitingChildren. */
  token: string | undefined;
}

export class JobTimeoutError extends Error {
  override name = "JobTimeoutError";
}

export function createWorker({
  queue,
  connection,
  prefix,
  logger,
  concurrency = 5,
  timeoutMs,
  handler,
  workerOptions,
}: CreateWorkerOptions): Worker {
  const queueName = QUEUES[queue];
  const worker = new Worker(
    queueName,
    async (job, token) => {
      const jobLogger = logger.child({
        queue: queueName,
        jobId: job.id,
        job: job.name,
        attempt: job.attemptsMade + 1,
      });
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new JobTimeoutError(`${job.name} timed out after ${timeoutMs} ms`);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      });
      try {
        return await Promise.race([
          handler(job, { logger: jobLogger, signal: controller.signal, token }),
          timeout,
        ]);
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
