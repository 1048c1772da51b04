import { availableParallelism, loadavg } from "node:os";
import { startPlatform } from "@vps-claude/testing/platform";
import { CleanupStack } from "../lib/cleanup";
import { log, requireEnv } from "../lib/env";
import { type LoadReport, measure } from "../lib/load";
import { seedBoxes } from "./seed-boxes";
import { signUp, startBareServer } from "./servers";

const BOXES = 1_000;
const WARMUP_REQUESTS = 300;
const LATENCY_REQUESTS = 2_000;
const THROUGHPUT_REQUESTS = 2_000;
const THROUGHPUT_CONCURRENCY = 16;
/** Each run stops here even if not all its requests were sent; `count` in the output says how many were. */
const RUN_TIME_LIMIT_MS = 30_000;
const PATH = "/rpc/box";

/** What we aim for; reported, never asserted (timings depend on the machine). */
const AIM_P50_MS = 5;
const AIM_SHARE_OF_BARE = 0.3;

interface TargetResult {
  p50Ms: number;
  p99Ms: number;
  rps: number;
  latency: LoadReport;
  throughput: LoadReport;
}

async function benchmarkTarget(
  name: string,
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
) {
  const base = { url, headers, timeLimitMs: RUN_TIME_LIMIT_MS, signal };
  log(`${name}: warming up (${WARMUP_REQUESTS} requests)`);
  await measure({ ...base, requests: WARMUP_REQUESTS, concurrency: THROUGHPUT_CONCURRENCY });
  log(`${name}: latency (${LATENCY_REQUESTS} requests, concurrency 1)`);
  const latency = await measure({ ...base, requests: LATENCY_REQUESTS, concurrency: 1 });
  log(`${name}: throughput (${THROUGHPUT_REQUESTS} requests, concurrency ${THROUGHPUT_CONCURRENCY})`);
  const throughput = await measure({
    ...base,
    requests: THROUGHPUT_REQUESTS,
    concurrency: THROUGHPUT_CONCURRENCY,
  });
  for (const report of [latency, throughput]) {
    if (report.errors > 0) {
      log(`${name}: ${report.errors} failed requests, first: ${report.firstError}`);
    }
    if (report.count + report.errors < report.requests) {
      log(`${name}: time limit reached after ${report.count} of ${report.requests} requests`);
    }
  }
  return {
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms,
    rps: throughput.rps,
    latency,
    throughput,
  } satisfies TargetResult;
}

async function main() {
  const adminUrl = requireEnv("DATABASE_URL");
  const redisUrl = requireEnv("REDIS_URL");
  const cleanup = new CleanupStack();
  const interrupt = new AbortController();
  cleanup.onSignals(interrupt);
  try {
    // The production app (createApp + createServerDeps) on its own scratch database and queue prefix; no workers.
    const api = await startPlatform({
      adminUrl,
      redisUrl,
      label: "bench_api",
      logDestination: process.stderr,
      // Not production: its secure cookies would not be sent back over plain http to 127.0.0.1.
      env: { NODE_ENV: "development" },
    });
    cleanup.push("stop API server", api.close);
    log(`API server on ${api.url}`);

    const { userId, cookie } = await signUp(api);
    await seedBoxes({ db: api.deps.db, userId, count: BOXES });
    log(`signed up ${userId} and seeded ${BOXES} boxes`);

    const headers = { cookie, origin: api.publicUrl };
    const first = await fetch(`${api.url}${PATH}`, { headers });
    const body = await first.text();
    if (first.status !== 200) {
      throw new Error(`GET ${PATH} answered HTTP ${first.status}: ${body.slice(0, 500)}`);
    }
    // The list is paged (a user with 1,000 boxes gets the newest page); the bare route serves that same page.
    const listed = (JSON.parse(body) as unknown[]).length;
    if (listed === 0 || listed > BOXES) {
      throw new Error(`GET ${PATH} listed ${listed} boxes out of ${BOXES}`);
    }

    const bare = await startBareServer(PATH, body);
    cleanup.push("stop bare server", bare.close);
    log(`bare Hono route on ${bare.url}`);

    const rpcBoxList = await benchmarkTarget("rpc box list", `${api.url}${PATH}`, headers, interrupt.signal);
    const bareRoute = await benchmarkTarget("bare route", `${bare.url}${PATH}`, headers, interrupt.signal);
    const throughputRatio = Math.round((rpcBoxList.rps / bareRoute.rps) * 1000) / 1000;

    const result = {
      benchmark: "api",
      boxes: BOXES,
      responseBytes: Buffer.byteLength(body),
      node: process.version,
      cpus: availableParallelism(),
      // Other work on the machine skews both targets; a high load average means: rerun when it is quiet.
      loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      rpcBoxList,
      bareRoute,
      throughputRatio,
      aims: {
        p50Under5ms: rpcBoxList.p50Ms < AIM_P50_MS,
        atLeast30PctOfBare: throughputRatio >= AIM_SHARE_OF_BARE,
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await cleanup.run();
  }
}

await main();
