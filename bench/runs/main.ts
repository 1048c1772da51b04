import { availableParallelism, loadavg, totalmem } from "node:os";
import { CleanupStack } from "../lib/cleanup";
import { log, requireEnv } from "../lib/env";
import { type CronLatenessResult, measureCronLateness } from "./cron-lateness";
import { type EventLatencyResult, measureEventLatency } from "./event-latency";

/** What we aim for; reported, never asserted (timings depend on the machine). */
const AIM_EVENT_P95_MS = 250;
const AIM_LATENESS_P99_MS = 1_000;

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, not '${raw}'`);
  }
  return value;
}

const round = (value: number) => Math.round(value * 100) / 100;

async function main() {
  const adminUrl = requireEnv("DATABASE_URL");
  const redisUrl = requireEnv("REDIS_URL");
  const only = process.env.BENCH_RUNS_ONLY;
  if (only !== undefined && only !== "events" && only !== "cron") {
    throw new Error(`BENCH_RUNS_ONLY must be 'events' or 'cron', not '${only}'`);
  }
  // One stack per part, so each part runs on a quiet machine; Ctrl-C undoes whichever is current.
  let cleanup = new CleanupStack();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanup.run().finally(() => process.exit(130));
    });
  }
  let events: EventLatencyResult | undefined;
  let cron: CronLatenessResult | undefined;
  try {
    if (only !== "cron") {
      events = await measureEventLatency({
        adminUrl,
        redisUrl,
        cleanup,
        boxes: setting("BENCH_RUNS_BOXES", 20),
        runs: setting("BENCH_RUNS_RUNS", 100),
        perBoxConcurrency: setting("BENCH_RUNS_PER_BOX", 2),
        turns: setting("BENCH_RUNS_TURNS", 8),
        paceMs: setting("BENCH_RUNS_PACE_MS", 250),
      });
      // The first part's sandboxes and Claude processes go before the second starts.
      await cleanup.run();
      cleanup = new CleanupStack();
    }
    if (only !== "events") {
      cron = await measureCronLateness({
        adminUrl,
        redisUrl,
        cleanup,
        schedules: setting("BENCH_CRON_SCHEDULES", 10_000),
        minutes: Math.min(setting("BENCH_CRON_SPREAD_MINUTES", 60), 60),
        boxes: 20,
      });
    }
    const result = {
      benchmark: "runs",
      node: process.version,
      cpus: availableParallelism(),
      totalMemoryMb: Math.round(totalmem() / 2 ** 20),
      loadAverage1m: round(loadavg()[0] ?? 0),
      ...(events
        ? {
            eventLatency: {
              ...events,
              addedOverBareRedisP50Ms: round(events.pipeline.p50Ms - events.bareRedis.duringRuns.p50Ms),
              addedOverBareRedisP95Ms: round(events.pipeline.p95Ms - events.bareRedis.duringRuns.p95Ms),
            },
          }
        : {}),
      ...(cron ? { cronLateness: cron } : {}),
      aims: {
        ...(events
          ? { eventP95UnderMs: AIM_EVENT_P95_MS, eventP95Met: events.pipeline.p95Ms < AIM_EVENT_P95_MS }
          : {}),
        ...(cron
          ? {
              latenessP99UnderMs: AIM_LATENESS_P99_MS,
              latenessP99Met: cron.cron.recorded.p99Ms < AIM_LATENESS_P99_MS,
              noTickLost: cron.cron.recordedTicks === cron.cron.expectedTicks,
            }
          : {}),
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  log(`runs failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
