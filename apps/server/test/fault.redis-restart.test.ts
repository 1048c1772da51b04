import { boxCronjobExecution, boxRun, modelRequest } from "@vps-claude/db";
import { type FakeAnthropic, startFakeAnthropic } from "@vps-claude/testing";
import { type PrivateRedis, startPrivateRedis } from "@vps-claude/testing/platform";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * Redis restarted under a minute-by-minute schedule. The platform's queues, schedulers and run event
 * bus live in a redis-server of this file's own (AOF on, fsync always: what production runs), never
 * the machine's shared one. A deployed box (sprites-local, the real Claude CLI against a fake
 * Messages API that answers at once) has a cronjob `* * * * *`. After its first tick Redis is
 * restarted twice: a clean SIGTERM while that tick's run is under way, then a SIGKILL that keeps
 * Redis down across the next minute boundary, so that tick is due while nothing can fire it.
 * Over the three minutes after the first tick, no tick may be lost and none doubled: one execution
 * per minute, consecutive, each with one run that completed, and no other run reaching the model.
 */

const MINUTE = 60_000;
/** The ticks watched after the first one. */
const TICKS_AFTER_FIRST = 3;
/** Redis is down this long on each side of the boundary it is killed across. */
const DOWN_AROUND_BOUNDARY_MS = 4_000;

let redis: PrivateRedis;
let fake: FakeAnthropic;
let server: TestServer;
let client: TestClient;
let boxId: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function executionsOf(cronjobId: string) {
  return server.deps.db
    .select()
    .from(boxCronjobExecution)
    .where(eq(boxCronjobExecution.cronjobId, cronjobId))
    .orderBy(asc(boxCronjobExecution.scheduledFor), asc(boxCronjobExecution.createdAt));
}

async function runsOf(cronjobId: string) {
  return server.deps.db.select().from(boxRun).where(eq(boxRun.cronjobId, cronjobId));
}

beforeAll(async () => {
  redis = await startPrivateRedis({ label: "redis-restart" });
  fake = await startFakeAnthropic({ respond: () => "Tick noted." });
  server = await startTestServer({
    label: "redisrestart",
    redisUrl: redis.url,
    workers: true,
    sprites: true,
    env: {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: "sk-ant-test-platform-key",
      // What Redis may lose in flight (a follow job added while it was down) is found again within seconds, not minutes.
      RECONCILE_EVERY_MS: "5000",
      LOST_JOB_AFTER_MS: "10000",
    },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "60000" },
  });
  ({ client } = await signedInClient(server));
  const created = await client.post("/rpc/box", { name: "Every minute" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  const deployed = await waitFor(
    async () => (await client.get(`/rpc/box/${boxId}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 180_000, interval: 500, what: "the box to deploy" },
  );
  expect(deployed.status, JSON.stringify(deployed)).toBe("running");
}, 240_000);

afterAll(async () => {
  await server?.close();
  await fake?.close();
  await redis?.close();
});

describe("redis-server restarted during a minute-by-minute schedule", () => {
  it(
    "loses no tick and doubles none: one execution per minute, each with one completed run",
    async () => {
      const created = await client.post(`/rpc/box/${boxId}/cronjobs`, {
        name: "Minutely",
        schedule: "* * * * *",
        prompt: "Note the time.",
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const cronjobId = String(created.body.id);

      const [first] = await waitFor(
        () => executionsOf(cronjobId),
        (rows) => rows.length > 0,
        { timeout: 2 * MINUTE, interval: 100, what: "the first tick" },
      );
      if (!first) {
        throw new Error("no first tick");
      }
      const firstTick = first.scheduledFor.getTime();
      expect(firstTick % MINUTE, "a `* * * * *` tick is on a minute boundary").toBe(0);

      // 1: a clean shutdown while the first tick's run is being started or followed.
      await redis.stop("SIGTERM");
      await redis.start();

      // 2: a crash across the next boundary: that tick falls due while Redis is down.
      const nextBoundary = firstTick + MINUTE;
      await sleep(nextBoundary - DOWN_AROUND_BOUNDARY_MS - Date.now());
      await redis.stop("SIGKILL");
      await sleep(nextBoundary + DOWN_AROUND_BOUNDARY_MS - Date.now());
      await redis.start();

      const lastTick = firstTick + TICKS_AFTER_FIRST * MINUTE;
      const terminal = ["completed", "failed", "skipped"];
      await waitFor(
        () => executionsOf(cronjobId),
        (rows) => {
          const last = rows.find((row) => row.scheduledFor.getTime() === lastTick);
          const watched = rows.filter((row) => row.scheduledFor.getTime() <= lastTick);
          return last !== undefined && watched.every((row) => terminal.includes(row.status));
        },
        // The last tick is due three minutes after the first; its run then takes seconds.
        { timeout: lastTick - Date.now() + 2 * MINUTE, interval: 500, what: "the watched ticks to end" },
      );
      // No more ticks: what is counted below stays put.
      const paused = await client.post(`/rpc/box/${boxId}/cronjobs/${cronjobId}/toggle`, { enabled: false });
      expect(paused.status, JSON.stringify(paused.body)).toBe(200);

      const all = await executionsOf(cronjobId);
      const watched = all.filter((row) => row.scheduledFor.getTime() <= lastTick);
      const history = JSON.stringify(
        all.map((row) => ({
          scheduledFor: row.scheduledFor.toISOString(),
          status: row.status,
          error: row.errorMessage,
          runId: row.runId,
        })),
        null,
        1,
      );
      expect(
        watched.map((row) => row.scheduledFor.getTime()),
        `one execution per minute from the first tick, none missing or twice: ${history}`,
      ).toEqual(Array.from({ length: TICKS_AFTER_FIRST + 1 }, (_, index) => firstTick + index * MINUTE));
      console.info(
        `[redis-restart] ticks (scheduled → recorded): ${watched
          .map(
            (row) =>
              `${row.scheduledFor.toISOString().slice(11, 16)} +${row.createdAt.getTime() - row.scheduledFor.getTime()} ms ${row.status}`,
          )
          .join(", ")}`,
      );
      const scheduled = all.map((row) => row.scheduledFor.getTime());
      expect(new Set(scheduled).size, `no tick recorded twice: ${history}`).toBe(scheduled.length);
      for (const execution of watched) {
        expect(execution.status, `tick ${execution.scheduledFor.toISOString()}: ${history}`).toBe(
          "completed",
        );
        expect(execution.runId, history).toMatch(/^run_/);
      }

      const runs = await runsOf(cronjobId);
      for (const execution of watched) {
        const ofTick = runs.filter((run) => run.cronjobExecutionId === execution.id);
        expect(ofTick, `tick ${execution.scheduledFor.toISOString()} has exactly one run`).toHaveLength(1);
        expect(ofTick[0]).toMatchObject({ id: execution.runId, status: "completed", trigger: "cron" });
      }
      const executionIds = new Set(all.map((row) => row.id));
      expect(
        runs.filter((run) => !run.cronjobExecutionId || !executionIds.has(run.cronjobExecutionId)),
        "no run without its tick",
      ).toEqual([]);

      // Nothing doubled where it costs: the gateway's ledger shows model requests of the ticks' runs only.
      const metered = await server.deps.db
        .selectDistinct({ runId: modelRequest.runId })
        .from(modelRequest)
        .where(eq(modelRequest.boxId, boxId));
      const runIdsAtModel = new Set(metered.flatMap((row) => (row.runId ? [row.runId] : [])));
      const tickRunIds = new Set(all.flatMap((row) => (row.runId ? [row.runId] : [])));
      expect([...runIdsAtModel].filter((runId) => !tickRunIds.has(runId))).toEqual([]);
      for (const execution of watched) {
        expect(
          runIdsAtModel.has(String(execution.runId)),
          `the run of ${execution.scheduledFor.toISOString()} reached the model`,
        ).toBe(true);
      }
    },
    9 * MINUTE,
  );
});
