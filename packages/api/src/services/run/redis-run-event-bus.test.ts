import { randomBytes } from "node:crypto";
import type { RunEvent } from "@vps-claude/contract/box-agent";
import { createLogger } from "@vps-claude/logger";
import { createRedis, type Redis, waitForRedis } from "@vps-claude/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClosableRunEventBus, createRedisRunEventBus } from "./redis-run-event-bus";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const logger = createLogger({ name: "run-event-bus-test", level: "silent" });
const prefix = `test-bus-${randomBytes(4).toString("hex")}`;

let publisher: Redis;
/** Every subscriber connection the buses made, to count them. */
const subscribers: Redis[] = [];
const buses: ClosableRunEventBus[] = [];

function bus(busPrefix = prefix): ClosableRunEventBus {
  const made = createRedisRunEventBus({
    publisher,
    createSubscriber: () => {
      const connection = createRedis(redisUrl, "worker");
      subscribers.push(connection);
      return connection;
    },
    prefix: busPrefix,
    logger,
  });
  buses.push(made);
  return made;
}

const text = (seq: number, value: string): RunEvent => ({
  type: "text",
  seq,
  at: new Date().toISOString(),
  text: value,
});

/** What a listener received, in order. */
function recorder() {
  const seen: RunEvent[] = [];
  return { seen, listener: (event: RunEvent) => seen.push(event) };
}

beforeAll(async () => {
  publisher = createRedis(redisUrl, "producer");
  await waitForRedis(publisher);
});

afterAll(async () => {
  await Promise.all(buses.map((made) => made.close()));
  publisher.disconnect();
});

describe("RunEventBus over Redis", () => {
  it("delivers a run's events to every subscriber of that run in any process, and to no other run", async () => {
    const api = bus();
    const worker = bus();
    const first = recorder();
    const second = recorder();
    const otherRun = recorder();
    await api.subscribe("run_a", first.listener);
    await api.subscribe("run_a", second.listener);
    await api.subscribe("run_b", otherRun.listener);

    await worker.publish("run_a", text(1, "one"));
    await worker.publish("run_a", text(2, "two"));

    await expect.poll(() => second.seen.length).toBe(2);
    expect(first.seen.map((e) => e.seq)).toEqual([1, 2]);
    expect(second.seen).toEqual(first.seen);
    expect(otherRun.seen).toEqual([]);
  });

  it("keeps a channel while anyone listens, and lets go of it with the last listener", async () => {
    const api = bus();
    const stays = recorder();
    const leaves = recorder();
    const unsubscribeStays = await api.subscribe("run_c", stays.listener);
    const unsubscribeLeaves = await api.subscribe("run_c", leaves.listener);
    await unsubscribeLeaves();
    await unsubscribeLeaves();

    await publisher.publish(`${prefix}:run:run_c`, JSON.stringify(text(1, "still here")));
    await expect.poll(() => stays.seen.length).toBe(1);
    expect(leaves.seen).toEqual([]);

    const listening = async () =>
      ((await publisher.call("PUBSUB", "NUMSUB", `${prefix}:run:run_c`)) as [string, number])[1];
    expect(await listening()).toBe(1);
    await unsubscribeStays();
    expect(await listening()).toBe(0);
  });

  it("opens one subscriber connection per process however many runs it watches, none before the first", async () => {
    const before = subscribers.length;
    const api = bus();
    await api.publish("run_d", text(1, "nobody listens"));
    expect(subscribers.length).toBe(before);
    await Promise.all(["run_d", "run_e", "run_f"].map((runId) => api.subscribe(runId, () => {})));
    expect(subscribers.length).toBe(before + 1);
  });

  it("drops what is not a run event (not JSON, the wrong shape) and delivers what follows", async () => {
    const api = bus();
    const got = recorder();
    await api.subscribe("run_g", got.listener);
    const channel = `${prefix}:run:run_g`;
    await publisher.publish(channel, "not json");
    await publisher.publish(channel, JSON.stringify({ type: "text", seq: 0, text: 1 }));
    await publisher.publish(channel, JSON.stringify(text(3, "good")));
    await expect.poll(() => got.seen.length).toBe(1);
    expect(got.seen[0]).toMatchObject({ seq: 3, text: "good" });
  });

  it("never hears another platform's runs sharing the Redis (another queue prefix)", async () => {
    const mine = bus();
    const theirs = bus(`${prefix}-other`);
    const got = recorder();
    await mine.subscribe("run_h", got.listener);
    await theirs.publish("run_h", text(1, "not for you"));
    await mine.publish("run_h", text(2, "for you"));
    await expect.poll(() => got.seen.length).toBe(1);
    expect(got.seen[0]?.seq).toBe(2);
  });
});
