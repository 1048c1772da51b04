import type { Logger } from "@vps-claude/logger";
import type { Redis } from "@vps-claude/redis";
import { FlowProducer, type JobsOptions, Queue, type QueueOptions } from "bullmq";
import { JOBS, type JobData, type JobKey, QUEUES, type QueueKey } from "./catalog";

export interface QueueConnection {
  /** A producer connection (fails fast). */
  connection: Redis;
  /** BullMQ key prefix; tests give each run its own so they never see each other's jobs. */
  prefix: string;
  /** Where connection errors of the queues and the flow producer are reported. */
  logger: Logger;
}

const DEFAULT_RETENTION: Pick<JobsOptions, "removeOnComplete" | "removeOnFail"> = {
  removeOnComplete: { age: 24 * 3600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
};

export interface Queues {
  get(key: QueueKey): Queue;
  enqueue<K extends JobKey>(key: K, data: JobData<K>, opts?: Omit<JobsOptions, "attempts">): Promise<string>;
  /** The FlowProducer for DAG-shaped work (the deploy pipeline), on the same connection and prefix. */
  flow(): FlowProducer;
  readonly prefix: string;
  close(): Promise<void>;
}

export function createQueues({ connection, prefix, logger }: QueueConnection): Queues {
  const queues = new Map<QueueKey, Queue>();
  let flowProducer: FlowProducer | undefined;
  const options: QueueOptions = { connection, prefix };

  function get(key: QueueKey): Queue {
    let queue = queues.get(key);
    if (!queue) {
      queue = new Queue(QUEUES[key], options);
      queue.on("error", (err) => logger.error({ err, queue: QUEUES[key] }, "queue error"));
      queues.set(key, queue);
    }
    return queue;
  }

  return {
    get,
    prefix,
    flow() {
      if (!flowProducer) {
        flowProducer = new FlowProducer({ connection, prefix });
        flowProducer.on("error", (err) => logger.error({ err }, "flow producer error"));
      }
      return flowProducer;
    },
    async enqueue(key, data, opts) {
      const def = JOBS[key];
      const parsed = def.schema.parse(data);
      const job = await get(def.queue).add(def.name, parsed, {
        attempts: def.attempts,
        backoff: def.backoff,
        ...DEFAULT_RETENTION,
        ...opts,
      });
      return job.id ?? "";
    },
    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
      await flowProducer?.close();
    },
  };
}
