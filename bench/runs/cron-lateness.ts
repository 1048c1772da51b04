import { CRON_TICKS_AT_ONCE, reconcileCronjobSchedules } from "@vps-claude/api";
import { box, boxCronjob, boxCronjobExecution, user } from "@vps-claude/db";
import { QUEUES } from "@vps-claude/queue";
import { createRedis } from "@vps-claude/redis";
import { generateSubdomain, newId } from "@vps-claude/shared";
import { startPlatform } from "@vps-claude/testing/platform";
import { Queue, QueueEvents, Worker } from "bullmq";
import { inArray } from "drizzle-orm";
import type { CleanupStack } from "../lib/cleanup";
import { type Distribution, distribution, sleep } from "../lib/distribution";
import { log } from "../lib/env";

export interface CronLatenessOptions {
  adminUrl: string;
  redisUrl: string;
  cleanup: CleanupStack;
  schedules: number;
  /** Schedule i fires at minute `i % minutes` of every hour: 60 spreads them over the hour, 1 fires all every minute. */
  minutes: number;
  boxes: number;
}

const MINUTE = 60_000;
/**
 * The raw baseline fires 15 s after each cron boundary, so the two herds never meet, nor meet the
 * platform's schedule reconcile at half past each minute.
 */
const BASELINE_OFFSET_MS = 15_000;
/** How long after the last due moment the herds are given to drain before they are counted. */
const DRAIN_MS = 25_000;
const INSERT_BATCH = 1_000;

export interface CronLatenessResult {
  setup: {
    schedules: number;
    spreadOverMinutes: number;
    /** How long the platform's startup reconcile took to upsert every job scheduler. */
    schedulerSyncMs: number;
    /** One more reconcile pass right after, with nothing changed: what each periodic pass costs. */
    steadyReconcile: { ms: number; upserted: number; removed: number };
    boundaries: string[];
  };
  /** The real queue and worker: BullMQ job schedulers of every cronjob, the platform's trigger path. */
  cron: {
    expectedTicks: number;
    /** Distinct ticks recorded as an execution. */
    recordedTicks: number;
    /** Ticks a worker took up more than once (BullMQ `active` twice for one job id). */
    redelivered: number;
    /** Scheduled tick → BullMQ moved the job to active (Redis' own clock, from the queue's event stream). */
    picked: Distribution;
    /** Scheduled tick → the execution row was written (the trigger's first transaction). */
    recorded: Distribution;
  };
  /** Plain delayed jobs, as many pending and as many due at once, a no-op handler. */
  rawDelayed: { expected: number; picked: Distribution; handler: Distribution };
}

/**
 * When each job of a queue is made active (every time, oldest first), read live from the queue's
 * event stream: a stream id is `<ms>-<seq>`, the ms being Redis' clock when BullMQ added the event.
 * Read as it happens because the stream is capped, and a schedule reconcile of 10,000 schedulers
 * pushes older events out within the minute.
 */
async function watchActive(redisUrl: string, queueName: string, prefix: string) {
  const times = new Map<string, number[]>();
  const connection = createRedis(redisUrl, "worker");
  const events = new QueueEvents(queueName, { connection, prefix });
  events.on("error", (err) => log(`${queueName} events: ${err.message}`));
  events.on("active", ({ jobId }, id) => {
    times.set(jobId, [...(times.get(jobId) ?? []), Number(id.split("-")[0])]);
  });
  await events.waitUntilReady();
  return {
    times,
    async close() {
      await events.close();
      connection.disconnect();
    },
  };
}

/** Fires at minute `m` of every hour and every `every` minutes after it (`every` 1: each minute). */
function minutePattern(m: number, every: number): string {
  if (every === 1) {
    return "* * * * *";
  }
  return every === 60 ? `${m} * * * *` : `${m}-59/${every} * * * *`;
}

async function seed(
  db: Awaited<ReturnType<typeof startPlatform>>["deps"]["db"],
  { schedules, minutes, boxes }: Pick<CronLatenessOptions, "schedules" | "minutes" | "boxes">,
) {
  const userId = newId("user");
  await db.insert(user).values({ id: userId, name: "Bench", email: `${userId}@example.com` });
  // Boxes that never deployed: a tick takes the real trigger path and stops at "box is error, not running".
  const boxRows = Array.from({ length: boxes }, (_, index) => ({
    id: newId("box"),
    userId,
    name: `Cron ${index + 1}`,
    subdomain: generateSubdomain(`cron-${index + 1}`),
    status: "error" as const,
    errorMessage: "bench: never deployed",
  }));
  await db.insert(box).values(boxRows);
  const minuteOf = new Map<string, number>();
  for (let from = 0; from < schedules; from += INSERT_BATCH) {
    const rows = Array.from({ length: Math.min(INSERT_BATCH, schedules - from) }, (_, offset) => {
      const index = from + offset;
      const id = newId("cronjob");
      minuteOf.set(id, index % minutes);
      return {
        id,
        boxId: String(boxRows[index % boxes]?.id),
        name: `Schedule ${index + 1}`,
        schedule: minutePattern(index % minutes, minutes),
        prompt: "Bench tick.",
        enabled: true,
      };
    });
    await db.insert(boxCronjob).values(rows);
  }
  return minuteOf;
}

/**
 * (b) Cron fire lateness with `schedules` enabled cronjobs: real rows, the platform's own startup
 * reconcile upserting one BullMQ job scheduler each, and its trigger worker taking each tick up.
 * The boxes never deployed, so a tick records its execution and stops at the box check: the real
 * path up to the point where a box would be woken. Over two minute boundaries, each tick's lateness
 * is measured when BullMQ made it active and when its execution was written. Next to it, raw
 * BullMQ delayed jobs, as many pending and as many due together, 15 s off the cron herds.
 */
export async function measureCronLateness(options: CronLatenessOptions): Promise<CronLatenessResult> {
  const { cleanup } = options;
  const platform = await startPlatform({
    adminUrl: options.adminUrl,
    redisUrl: options.redisUrl,
    label: "bench_runs_cron",
    logDestination: process.stderr,
    env: { NODE_ENV: "development", LOG_LEVEL: "warn" },
  });
  cleanup.push("stop the cron platform", platform.close);
  log(`seeding ${options.schedules} enabled cronjobs over ${options.boxes} boxes`);
  const minuteOf = await seed(platform.deps.db, options);

  log("starting the workers (their startup reconcile upserts every job scheduler)");
  const syncStarted = Date.now();
  await platform.startWorkers();
  const schedulerSyncMs = Date.now() - syncStarted;
  log(`schedulers synced in ${schedulerSyncMs} ms`);
  const passStarted = Date.now();
  const { upserted, removed } = await reconcileCronjobSchedules({ deps: platform.deps });
  const steadyReconcile = { ms: Date.now() - passStarted, upserted, removed };
  log(`a reconcile pass with nothing changed: ${steadyReconcile.ms} ms`);
  const rawName = "bench-raw-delayed";
  const cronActive = await watchActive(options.redisUrl, QUEUES.triggerCronjob, platform.queuePrefix);
  cleanup.push("stop watching the cron queue", cronActive.close);
  const rawActive = await watchActive(options.redisUrl, rawName, platform.queuePrefix);
  cleanup.push("stop watching the baseline queue", rawActive.close);

  const first = Math.ceil((Date.now() + 15_000) / MINUTE) * MINUTE;
  const boundaries = [first, first + MINUTE];
  const minuteAt = (ms: number) => new Date(ms).getUTCMinutes() % options.minutes;
  const dueMinutes = new Set(boundaries.map(minuteAt));
  const expectedTicks = [...minuteOf.values()].filter((minute) => dueMinutes.has(minute)).length;

  // The baseline: one delayed job per schedule, due like its schedule but 15 s later.
  const connection = createRedis(options.redisUrl, "worker");
  cleanup.push("close the baseline connection", async () => connection.disconnect());
  const rawQueue = new Queue(rawName, { connection, prefix: platform.queuePrefix });
  cleanup.push("close the baseline queue", () => rawQueue.close());
  const handlerLateness: number[] = [];
  const workerConnection = createRedis(options.redisUrl, "worker");
  cleanup.push("close the baseline worker's connection", async () => workerConnection.disconnect());
  const rawWorker = new Worker(
    rawName,
    async (job) => {
      handlerLateness.push(Date.now() - Number((job.data as { dueMs: number }).dueMs));
    },
    { connection: workerConnection, prefix: platform.queuePrefix, concurrency: CRON_TICKS_AT_ONCE },
  );
  rawWorker.on("error", (err) => log(`baseline worker: ${err.message}`));
  cleanup.push("close the baseline worker", () => rawWorker.close(true));
  const rawDue = new Map<string, number>();
  const dueOfMinute = (minute: number) => {
    const ahead = (((minute - minuteAt(first)) % options.minutes) + options.minutes) % options.minutes;
    return first + BASELINE_OFFSET_MS + ahead * MINUTE;
  };
  const minutes = [...minuteOf.values()];
  for (let from = 0; from < minutes.length; from += INSERT_BATCH) {
    const now = Date.now();
    await rawQueue.addBulk(
      minutes.slice(from, from + INSERT_BATCH).map((minute, offset) => {
        const dueMs = dueOfMinute(minute);
        const jobId = `raw-${dueMs}-${from + offset}`;
        rawDue.set(jobId, dueMs);
        return {
          name: "raw",
          data: { dueMs },
          opts: { jobId, delay: dueMs - now, removeOnComplete: true, removeOnFail: true },
        };
      }),
    );
  }
  const rawDueInWindow = boundaries.map((boundary) => boundary + BASELINE_OFFSET_MS);
  const rawExpected = [...rawDue.values()].filter((due) => rawDueInWindow.includes(due)).length;

  const lastDue = (boundaries.at(-1) ?? first) + BASELINE_OFFSET_MS;
  log(
    `measuring ticks at ${boundaries.map((ms) => new Date(ms).toISOString()).join(", ")} (${expectedTicks} due) ` +
      `and raw delayed jobs 15 s after each (${rawExpected} due); waiting ${Math.round((lastDue + DRAIN_MS - Date.now()) / 1000)} s`,
  );
  await sleep(lastDue + DRAIN_MS - Date.now());

  const executions = await platform.deps.db
    .select({
      scheduledFor: boxCronjobExecution.scheduledFor,
      createdAt: boxCronjobExecution.createdAt,
      cronjobId: boxCronjobExecution.cronjobId,
    })
    .from(boxCronjobExecution)
    .where(
      inArray(
        boxCronjobExecution.scheduledFor,
        boundaries.map((ms) => new Date(ms)),
      ),
    );
  const recorded = executions.map((row) => row.createdAt.getTime() - row.scheduledFor.getTime());
  const recordedTicks = new Set(executions.map((row) => `${row.cronjobId}@${row.scheduledFor.getTime()}`))
    .size;

  const picked: number[] = [];
  let redelivered = 0;
  for (const [jobId, times] of cronActive.times) {
    // A scheduler's job id names its tick: `repeat:<scheduler id>:<tick ms>`.
    const tick = Number(/^repeat:cronjob-[^:]+:(\d+)$/.exec(jobId)?.[1]);
    const [firstTime] = times;
    if (boundaries.includes(tick) && firstTime !== undefined) {
      picked.push(firstTime - tick);
      redelivered += times.length - 1;
    }
  }
  const rawPicked: number[] = [];
  for (const [jobId, [firstTime]] of rawActive.times) {
    const due = rawDue.get(jobId);
    if (due !== undefined && rawDueInWindow.includes(due) && firstTime !== undefined) {
      rawPicked.push(firstTime - due);
    }
  }
  await rawWorker.close();
  return {
    setup: {
      schedules: options.schedules,
      spreadOverMinutes: options.minutes,
      schedulerSyncMs,
      steadyReconcile,
      boundaries: boundaries.map((ms) => new Date(ms).toISOString()),
    },
    cron: {
      expectedTicks,
      recordedTicks,
      redelivered,
      picked: distribution(picked),
      recorded: distribution(recorded),
    },
    rawDelayed: {
      expected: rawExpected,
      picked: distribution(rawPicked),
      handler: distribution(handlerLateness),
    },
  };
}
