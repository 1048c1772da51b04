import { fork } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { getBoxToken } from "@vps-claude/api";
import { modelRequest } from "@vps-claude/db";
import { startPlatform } from "@vps-claude/testing/platform";
import { count } from "drizzle-orm";
import { signUp } from "../api/servers";
import { CleanupStack } from "../lib/cleanup";
import { log, requireEnv } from "../lib/env";
import { measureSse, type SseLoadReport } from "./sse-load";

const WARMUP_REQUESTS = 500;
const LATENCY_REQUESTS = 2_000;
const THROUGHPUT_REQUESTS = 4_000;
const THROUGHPUT_CONCURRENCY = 16;
const RUN_TIME_LIMIT_MS = 30_000;

/** What we aim for; reported, never asserted (timings depend on the machine). */
const AIM_ADDED_P50_MS = 2;
const AIM_SHARE_OF_DIRECT = 0.9;

const round = (value: number) => Math.round(value * 1000) / 1000;

/**
 * The instant fake answers at once, so the throughput ratio there is CPU against CPU on one machine:
 * the gateway's whole extra HTTP hop next to the fake's own work. A model takes time to its first
 * token; the paced run (the fake waits PACED_DELAY_MS, far less than a real model) shows the share of
 * direct throughput the gateway keeps when the upstream, not the gateway, sets the pace.
 */
const PACED_DELAY_MS = 50;
const PACED_REQUESTS = 2_000;

const message = (model: string) =>
  JSON.stringify({
    model,
    max_tokens: 256,
    stream: true,
    messages: [{ role: "user", content: "Say hello in one sentence." }],
  });
const MESSAGE = message("claude-sonnet-4-5");
const PACED_MESSAGE = message(`claude-sonnet-4-5-paced-${PACED_DELAY_MS}ms`);

function startFakeApiProcess(): Promise<{ url: string; close(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL("./fake-api-child.ts", import.meta.url)), {
    stdio: ["ignore", process.stderr, "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    void exited.then(() => reject(new Error("the fake Messages API exited before it was ready")));
    child.once("message", (message: { url: string }) =>
      resolve({
        url: message.url,
        async close() {
          child.disconnect();
          await exited;
        },
      }),
    );
  });
}

async function main() {
  const adminUrl = requireEnv("DATABASE_URL");
  const redisUrl = requireEnv("REDIS_URL");
  const cleanup = new CleanupStack();
  const interrupt = new AbortController();
  cleanup.onSignals(interrupt);
  try {
    const fakeApi = await startFakeApiProcess();
    cleanup.push("stop the fake Messages API", fakeApi.close);
    log(`fake Messages API on ${fakeApi.url} (own process)`);

    const api = await startPlatform({
      adminUrl,
      redisUrl,
      label: "bench_gateway",
      logDestination: process.stderr,
      env: {
        NODE_ENV: "development",
        ANTHROPIC_BASE_URL: fakeApi.url,
        ANTHROPIC_API_KEY: "sk-ant-bench-platform-key",
      },
    });
    cleanup.push("stop API server", api.close);
    log(`API server on ${api.url}`);
    const { deps } = api;

    const { publicUrl } = api;
    const { cookie } = await signUp(api);
    const created = await fetch(`${api.url}/rpc/box`, {
      method: "POST",
      headers: { cookie, origin: publicUrl, "content-type": "application/json" },
      body: JSON.stringify({ name: "Bench" }),
    });
    const box = (await created.json()) as { id?: string };
    if (created.status !== 201 || !box.id) {
      throw new Error(`creating the box answered HTTP ${created.status}: ${JSON.stringify(box)}`);
    }
    const token = await getBoxToken({ db: deps.db, keyring: deps.keyring, boxId: box.id });
    if (!token) {
      throw new Error("the box has no token");
    }

    const common = { "content-type": "application/json", "anthropic-version": "2023-06-01" };
    const targets = {
      direct: {
        url: `${fakeApi.url}/v1/messages?beta=true`,
        headers: { ...common, "x-api-key": "sk-ant-bench-platform-key" },
      },
      gateway: {
        url: `${api.url}/box/llm/v1/messages?beta=true`,
        headers: { ...common, "x-api-key": token, "x-vps-run-id": "bench-run" },
      },
    };
    const run = (target: keyof typeof targets, requests: number, concurrency: number, body = MESSAGE) =>
      measureSse(
        { ...targets[target], body, requests, concurrency, timeLimitMs: RUN_TIME_LIMIT_MS },
        interrupt.signal,
      );
    const check = (name: string, report: SseLoadReport) => {
      if (report.errors > 0) {
        log(`${name}: ${report.errors} failed requests, first: ${report.firstError}`);
      }
      return report;
    };

    for (const target of ["direct", "gateway"] as const) {
      log(`${target}: warming up (${WARMUP_REQUESTS} requests)`);
      check(`${target} warm-up`, await run(target, WARMUP_REQUESTS, THROUGHPUT_CONCURRENCY));
    }
    const latency: Partial<Record<keyof typeof targets, SseLoadReport>> = {};
    const throughput: Partial<Record<keyof typeof targets, SseLoadReport>> = {};
    for (const target of ["direct", "gateway"] as const) {
      log(`${target}: latency (${LATENCY_REQUESTS} requests, concurrency 1)`);
      latency[target] = check(`${target} latency`, await run(target, LATENCY_REQUESTS, 1));
    }
    for (const target of ["direct", "gateway"] as const) {
      log(`${target}: throughput (${THROUGHPUT_REQUESTS} requests, concurrency ${THROUGHPUT_CONCURRENCY})`);
      throughput[target] = check(
        `${target} throughput`,
        await run(target, THROUGHPUT_REQUESTS, THROUGHPUT_CONCURRENCY),
      );
    }
    const paced: Partial<Record<keyof typeof targets, SseLoadReport>> = {};
    for (const target of ["direct", "gateway"] as const) {
      log(`${target}: paced throughput (${PACED_REQUESTS} requests, ${PACED_DELAY_MS} ms to first token)`);
      paced[target] = check(
        `${target} paced`,
        await run(target, PACED_REQUESTS, THROUGHPUT_CONCURRENCY, PACED_MESSAGE),
      );
    }
    if (!paced.direct || !paced.gateway) {
      throw new Error("a paced run did not report");
    }
    const pacedRatio = round(paced.gateway.rps / paced.direct.rps);
    const direct = { latency: latency.direct, throughput: throughput.direct };
    const gateway = { latency: latency.gateway, throughput: throughput.gateway };
    if (!direct.latency || !direct.throughput || !gateway.latency || !gateway.throughput) {
      throw new Error("a run did not report");
    }
    // Rows are written after each response ends; give the last ones a moment.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [rows] = await deps.db.select({ n: count() }).from(modelRequest);

    const addedTtfbP50 = round(gateway.latency.ttfb.p50Ms - direct.latency.ttfb.p50Ms);
    const addedTotalP50 = round(gateway.latency.total.p50Ms - direct.latency.total.p50Ms);
    const throughputRatio = round(gateway.throughput.rps / direct.throughput.rps);
    const summarize = (figures: { latency: SseLoadReport; throughput: SseLoadReport }) => ({
      ttfbP50Ms: figures.latency.ttfb.p50Ms,
      ttfbP99Ms: figures.latency.ttfb.p99Ms,
      totalP50Ms: figures.latency.total.p50Ms,
      totalP99Ms: figures.latency.total.p99Ms,
      rpsAtConcurrency16: figures.throughput.rps,
      throughputTotalP50Ms: figures.throughput.total.p50Ms,
      errors: figures.latency.errors + figures.throughput.errors,
      responseBytes: figures.latency.responseBytes,
    });
    const result = {
      benchmark: "gateway",
      request: "POST /v1/messages, stream: true (fake API in its own process)",
      node: process.version,
      cpus: availableParallelism(),
      loadAverage1m: round(loadavg()[0] ?? 0),
      direct: summarize({ latency: direct.latency, throughput: direct.throughput }),
      gateway: summarize({ latency: gateway.latency, throughput: gateway.throughput }),
      addedP50Ms: { ttfb: addedTtfbP50, total: addedTotalP50 },
      throughputRatio,
      paced: {
        delayToFirstTokenMs: PACED_DELAY_MS,
        directRps: paced.direct.rps,
        gatewayRps: paced.gateway.rps,
        throughputRatio: pacedRatio,
        addedTotalP50Ms: round(paced.gateway.total.p50Ms - paced.direct.total.p50Ms),
      },
      modelRequestRows: rows?.n ?? 0,
      aims: {
        addedP50UnderMs: AIM_ADDED_P50_MS,
        addedP50Met: addedTotalP50 < AIM_ADDED_P50_MS,
        shareOfDirect: AIM_SHARE_OF_DIRECT,
        throughputMet: throughputRatio >= AIM_SHARE_OF_DIRECT,
        pacedThroughputMet: pacedRatio >= AIM_SHARE_OF_DIRECT,
      },
      details: { direct, gateway },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `[bench] gateway failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
