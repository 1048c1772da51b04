import type { Logger } from "@vps-claude/logger";
import { createWorker } from "@vps-claude/queue";
import type { Redis } from "@vps-claude/redis";
import type { Worker } from "bullmq";
import type { ApiDeps } from "../deps";
import { DEPLOY_PIPELINE } from "../services/deploy/deploy-pipeline";
import type { DeployRuntime } from "../services/deploy/deploy-runtime";
import { deployQueues } from "../services/deploy/pipeline";
import { runDeployJob } from "../services/deploy/run-deploy-step";

interface DeployWorkersOptions {
  deps: ApiDeps;
  runtime: DeployRuntime;
  connection: Redis;
  prefix: string;
  logger: Logger;
  /** BullMQ lock duration; a dead worker's job is picked up again after it (tests shorten it). */
  lockDurationMs?: number;
}

/** Steps mostly wait on the sandbox provider, so many run at once per process. */
const STEP_CONCURRENCY = 20;

/** One worker per queue of the pipeline's table. */
export function startDeployWorkers({
  deps,
  runtime,
  connection,
  prefix,
  logger,
  lockDurationMs,
}: DeployWorkersOptions): Worker[] {
  const pipeline = DEPLOY_PIPELINE;
  const workerOptions = lockDurationMs
    ? { lockDuration: lockDurationMs, stalledInterval: lockDurationMs }
    : undefined;
  const queues = deployQueues(pipeline);
  logger.debug({ queues: queues.map((queue) => queue.job.queue) }, "deploy workers started");
  return queues.map((queue) =>
    createWorker({
      job: queue.job,
      connection,
      prefix,
      logger,
      concurrency: queue.entry ? undefined : STEP_CONCURRENCY,
      workerOptions,
      handler: (job, ctx) =>
        runDeployJob({ deps, runtime, pipeline, queue, data: queue.schema.parse(job.data), job, ctx }),
    }),
  );
}
