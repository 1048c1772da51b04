import { Redis, type RedisOptions } from "ioredis";

export type { Redis } from "ioredis";

/**
 * BullMQ's production rules: a worker connection must retry forever (`maxRetriesPerRequest: null`)
 * so a Redis blip pauses work instead of failing jobs; a producer connection fails fast so an API
 * request answers with an error instead of hanging while Redis is away.
 */
export function createRedis(url: string, role: "worker" | "producer"): Redis {
  const options: RedisOptions =
    role === "worker"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 };
  const redis = new Redis(url, { ...options, lazyConnect: false });
  // ioredis reconnects by itself; an unhandled 'error' event would crash the process instead.
  redis.on("error", () => {});
  return redis;
}

/** Resolves once the connection is ready (producers with no offline queue reject commands before that). */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === "ready") {
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
