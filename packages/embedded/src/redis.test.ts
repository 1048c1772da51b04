import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createLogger } from "@vps-claude/logger";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { isAlive } from "./process-utils";
import { type EmbeddedRedis, pingRedis, startEmbeddedRedis } from "./redis";

const logger = createLogger({ name: "redis-test", level: "silent" });
let dir: string;
const started: EmbeddedRedis[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "redis-test-"));
  await chmod(dir, 0o755);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((redis) => redis.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function start(port?: number): Promise<EmbeddedRedis> {
  const redis = await startEmbeddedRedis({ dataDir: path.join(dir, "redis"), port, logger });
  started.push(redis);
  return redis;
}

async function pidOf(): Promise<number> {
  return Number.parseInt(await readFile(path.join(dir, "redis", "redis-server.pid"), "utf8"), 10);
}

describe("startEmbeddedRedis", () => {
  test("answers PING on 127.0.0.1 with its password, and refuses without it", async () => {
    const redis = await start();
    const url = new URL(redis.url);
    expect(url.hostname).toBe("127.0.0.1");
    expect(await pingRedis(redis.url)).toBe(true);
    expect(await pingRedis(`redis://127.0.0.1:${redis.port}`)).toBe(false);
    expect(await pingRedis(`redis://:wrong@127.0.0.1:${redis.port}`)).toBe(false);
  });

  test("stop() ends the server", async () => {
    const redis = await start();
    const pid = await pidOf();
    await redis.stop();
    expect(isAlive(pid)).toBe(false);
    expect(await pingRedis(redis.url)).toBe(false);
  });

  test("uses another port when the preferred one is taken", async () => {
    const blocker = net.createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const redis = await start(taken);
      expect(redis.port).not.toBe(taken);
      expect(await pingRedis(redis.url)).toBe(true);
    } finally {
      blocker.close();
    }
  });

  test("a start over a server an earlier run left behind stops that one first", async () => {
    await start();
    const abandoned = await pidOf();
    const redis = await start();
    expect(isAlive(abandoned)).toBe(false);
    expect(await pidOf()).not.toBe(abandoned);
    expect(await pingRedis(redis.url)).toBe(true);
  });

  test("a stale pid file naming some other live process leaves that process alone", async () => {
    await start().then((redis) => redis.stop());
    await writeFile(path.join(dir, "redis", "redis-server.pid"), `${process.pid}\n`);
    const redis = await start();
    expect(await pingRedis(redis.url)).toBe(true);
  });
});
