import { randomBytes } from "node:crypto";
import { createLogger } from "@vps-claude/logger";
import { createRedis, waitForRedis } from "@vps-claude/redis";
import type { Job } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { clearQueuePrefix, createQueues } from "./queues";
import { createWorker, type JobContext, PermanentJobError } from "./workers";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const producer = createRedis(redisUrl, "producer");
const workerConnection = createRedis(redisUrl, "worker");
const logger = createLogger({ name: "worker-test", level: "silent" });
const prefix = `test-workers-${randomBytes(4).toString("hex")}`;

afterAll(async () => {
  await clearQueuePrefix(producer, prefix);
  producer.disconnect();
  workerConnection.disconnect();
});

const def = {
  queue: "worker-test",
  name: "test.attempts",
  schema: z.object({ permanent: z.boolean() }),
  attempts: 3,
  backoff: { type: "fixed" as const, delay: 0 },
  timeoutMs: 5_000,
};

/** Runs one job to its final failure and returns every attempt's context and the job. */
async function failJob(permanent: boolean): Promise<{ seen: JobContext[]; job: Job }> {
  const seen: JobContext[] = [];
  const queues = createQueues({ connection: producer, prefix, logger });
  const worker = createWorker({
    job: def,
    connection: workerConnection,
    prefix,
    logger,
    handler: async (job, ctx) => {
      seen.push(ctx);
      throw job.data.permanent ? new PermanentJobError("the box can never deploy") : new Error("try again");
    },
  });
  try {
    const failed = new Promise<Job>((resolve) =>
      worker.on("failed", (job) => {
        // The last failure: all attempts used, or a permanent one (which gets no retry).
        if (job && (job.attemptsMade >= def.attempts || job.data.permanent)) {
          resolve(job);
        }
      }),
    );
    await queues.add(def, { permanent });
    return { seen, job: await failed };
  } finally {
    await worker.close();
    await queues.close();
  }
}

describe("createWorker", () => {
  it("retries a plain failure, telling each attempt its number and whether it is the last", async () => {
    await waitForRedis(producer);
    const { seen, job } = await failJob(false);
    expect(seen.map((ctx) => [ctx.attempt, ctx.attempts, ctx.isFinalAttempt])).toEqual([
      [1, 3, false],
      [2, 3, false],
      [3, 3, true],
    ]);
    expect(job.attemptsMade).toBe(3);
  });

  it("fails a PermanentJobError at once, with its message, whatever attempts remain", async () => {
    const { seen, job } = await failJob(true);
    expect(seen).toHaveLength(1);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toBe("the box can never deploy");
    // Nothing is left to retry it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toHaveLength(1);
  });
});
