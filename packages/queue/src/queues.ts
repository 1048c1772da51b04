import type { Logger } from "@vps-claude/logger";
import type { Redis } from "@vps-claude/redis";
import { FlowProducer, type JobsOptions, Queue, type QueueOptions } from "bullmq";
import type { z } from "zod";
import {
  JOBS,
  type JobData,
  type JobDefinition,
  type JobKey,
  type JobOptions,
  QUEUES,
  type QueueKey,
} from "./catalog";

export interface QueueConnection {
  /** A producer connection (fails fast). */
  connection: Redis;
  /** BullMQ key prefix; tests give each run its own so they never see each other's jobs. */
  prefix: string;
  /** Where connection errors of the queues and the flow producer are reported. */
  logger: Logger;
}

/**
 * What BullMQ is told about every job we add, however it is added (a queue, a flow, a fan-out):
 * its attempts and backoff, and auto-removal so Redis does not grow forever.
 */
export function bullJobOptions(def: Pick<JobOptions, "attempts" | "backoff">): JobsOptions {
  return {
    attempts: def.attempts,
    backoff: def.backoff,
    removeOnComplete: { age: 24 * 3600, count: 1_000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
  };
}

export interface Queues {
  get(key: QueueKey): Queue;
  /** A queue by its BullMQ name, for queues declared outside the catalog (the deploy steps). */
  named(name: string): Queue;
  enqueue<K extends JobKey>(key: K, data: JobData<K>, opts?: Omit<JobsOptions, "attempts">): Promise<string>;
  /** Adds one job of `def`, its data checked against the definition's schema. */
  add<S extends z.ZodType>(
    def: JobDefinition<S>,
    data: z.input<S>,
    opts?: Omit<JobsOptions, "attempts">,
  ): Promise<string>;
  /** The FlowProducer for DAG-shaped work (the deploy pipeline), on the same connection and prefix. */
  flow(): FlowProducer;
  readonly prefix: string;
  close(): Promise<void>;
}

export function createQueues({ connection, prefix, logger }: QueueConnection): Queues {
  const queues = new Map<string, Queue>();
  let flowProducer: FlowProducer | undefined;
  const options: QueueOptions = { connection, prefix };

  function named(name: string): Queue {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, options);
      queue.on("error", (err) => logger.error({ err, queue: name }, "queue error"));
      queues.set(name, queue);
    }
    return queue;
  }

  // The public signatures tie data to its definition; the schema checks it here in any case.
  async function add(
    def: JobDefinition<z.ZodType>,
    data: unknown,
    opts?: Omit<JobsOptions, "attempts">,
  ): Promise<string> {
    const parsed = def.schema.parse(data);
    const job = await named(def.queue).add(def.name, parsed, { ...bullJobOptions(def), ...opts });
    return job.id ?? "";
  }

  return {
    get: (key) => named(QUEUES[key]),
    named,
    add,
    prefix,
    flow() {
      if (!flowProducer) {
        flowProducer = new FlowProducer({ connection, prefix });
        flowProducer.on("error", (err) => logger.error({ err }, "flow producer error"));
      }
      return flowProducer;
    },
    enqueue: (key, data, opts) => add(JOBS[key], data, opts),
    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
      await flowProducer?.close();
    },
  };
}

/**
 * Removes every BullMQ key under `prefix`, whichever queues, flows and schedulers wrote them (tests
 * give each run its own prefix and clear it at the end). Returns how many keys went.
 */
export async function clearQueuePrefix(connection: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}:*`;
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await connection.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) {
      removed += await connection.unlink(...keys);
    }
  } while (cursor !== "0");
  return removed;
}
