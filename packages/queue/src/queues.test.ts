import { randomBytes } from "node:crypto";
import { createLogger } from "@vps-claude/logger";
import { createRedis, waitForRedis } from "@vps-claude/redis";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { clearQueuePrefix, createQueues } from "./queues";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const connection = createRedis(redisUrl, "producer");
const logger = createLogger({ name: "queue-test", level: "silent" });

afterAll(() => connection.disconnect());

const keysUnder = (prefix: string) => connection.keys(`${prefix}:*`);

describe("clearQueuePrefix", () => {
  it("removes the keys of every queue under the prefix, catalogued or not, and nothing of another prefix", async () => {
    await waitForRedis(connection);
    const mine = `test-clear-${randomBytes(4).toString("hex")}`;
    const other = `${mine}-other`;
    const queues = createQueues({ connection, prefix: mine, logger });
    const neighbour = createQueues({ connection, prefix: other, logger });
    const def = {
      queue: "outside-the-catalog",
      name: "test.job",
      schema: z.object({ n: z.number() }),
      attempts: 1,
      backoff: { type: "fixed" as const, delay: 0 },
      timeoutMs: 1_000,
    };
    await queues.add(def, { n: 1 });
    await queues.enqueue("deleteBox", { boxId: "box_1" });
    await neighbour.add(def, { n: 2 });
    expect((await keysUnder(mine)).length).toBeGreaterThan(0);

    const removed = await clearQueuePrefix(connection, mine);

    expect(removed).toBeGreaterThan(0);
    expect(await keysUnder(mine)).toEqual([]);
    expect((await keysUnder(other)).length).toBeGreaterThan(0);
    await clearQueuePrefix(connection, other);
    await Promise.all([queues.close(), neighbour.close()]);
  });
});
