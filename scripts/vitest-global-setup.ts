import { readdir, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  isAlive,
  pingRedis,
  startEmbeddedPostgres,
  startEmbeddedRedis,
  stopStalePostgres,
  stopStaleRedis,
  waitForPostgres,
} from "@vps-claude/embedded";
import { createLogger } from "@vps-claude/logger";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A Postgres superuser URL; each test creates its own database or schema in it. */
    databaseUrl: string;
    /** A Redis URL; each test uses its own key prefix. */
    redisUrl: string;
  }
}

const dataDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", ".data");
const TEST_DIR_PREFIX = "test-";

/**
 * Gives the test run a Postgres and a Redis: DATABASE_URL / REDIS_URL when set, else embedded ones
 * on free ports with their data in `.data/test-<pid>`, removed at teardown. Tests read them with
 * `inject("databaseUrl")` / `inject("redisUrl")` or from process.env, which the workers inherit.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger({ name: "test-setup", level: "warn" });
  await removeStaleTestDirs();
  const runDir = path.join(dataDir, `${TEST_DIR_PREFIX}${process.pid}`);
  const cleanups: (() => Promise<void>)[] = [];
  const teardown = async () => {
    await Promise.all(cleanups.map((cleanup) => cleanup()));
    await rm(runDir, { recursive: true, force: true });
  };

  try {
    const [databaseUrl, redisUrl] = await Promise.all([
      process.env.DATABASE_URL ||
        startEmbeddedPostgres({
          dataDir: path.join(runDir, "postgres"),
          database: "test",
          durable: false,
          logger,
        }).then((postgres) => {
          cleanups.push(async () => {
            await postgres.stop();
            await rm(postgres.clusterDir, { recursive: true, force: true });
          });
          return postgres.url;
        }),
      process.env.REDIS_URL ||
        startEmbeddedRedis({ dataDir: path.join(runDir, "redis"), logger }).then((redis) => {
          cleanups.push(redis.stop);
          return redis.url;
        }),
    ]);
    await waitForPostgres(databaseUrl);
    if (!(await pingRedis(redisUrl, 5_000))) {
      throw new Error("Redis at REDIS_URL does not answer PING");
    }

    // Workers are forked after global setup, with this environment.
    process.env.DATABASE_URL = databaseUrl;
    process.env.REDIS_URL = redisUrl;
    project.provide("databaseUrl", databaseUrl);
    project.provide("redisUrl", redisUrl);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

/** `.data/test-<pid>` folders of runs that were killed before their teardown: stop what they left and remove them. */
async function removeStaleTestDirs(): Promise<void> {
  const entries = await readdir(dataDir).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = Number(entry.slice(TEST_DIR_PREFIX.length));
    if (!entry.startsWith(TEST_DIR_PREFIX) || !Number.isInteger(pid) || pid <= 0 || isAlive(pid)) {
      continue;
    }
    const runDir = path.join(dataDir, entry);
    const clusterDir = await realpath(path.join(runDir, "postgres")).catch(() => undefined);
    if (clusterDir) {
      await stopStalePostgres(clusterDir);
      await rm(clusterDir, { recursive: true, force: true });
    }
    await stopStaleRedis(path.join(runDir, "redis"));
    await rm(runDir, { recursive: true, force: true });
  }
}
