import { fork } from "node:child_process";
import type { IncomingMessage } from "node:http";
import { ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import {
  ANSWERED_ON_NODE,
  type ApiDeps,
  createModelGateway,
  emptyUsage,
  getBoxToken,
  type ModelGateway,
  type ModelRequestRecord,
  recordModelRequests,
} from "@vps-claude/api";
import { boxRun, ledgerEntry, modelRequest } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { listenOnLoopback, type Platform } from "@vps-claude/testing/platform";
import { count, eq, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import type { CleanupStack } from "../lib/cleanup";
import { log } from "../lib/env";
import { runLoad } from "../lib/load";
import { requestsPerSecond } from "../lib/stats";
import { concat, type Percentiles, percentiles, roundMs, timeEach } from "./latency";

const WARMUP_REQUESTS = 500;
/** Latency runs alternate between the two gateways, so drift on a shared machine hits both alike. */
const ROUNDS = 10;
const REQUESTS_PER_ROUND = 300;
const THROUGHPUT_REQUESTS = 3_000;
const THROUGHPUT_CONCURRENCY = 16;
const RUN_TIME_LIMIT_MS = 60_000;
/** Direct calls of the batch writer, one finished request per batch, per mode. */
const WRITES = 400;

const MESSAGE = JSON.stringify({
  model: "claude-sonnet-4-5",
  max_tokens: 256,
  stream: true,
  messages: [{ role: "user", content: "Say hello in one sentence." }],
});

/** The fake Messages API of the gateway benchmark, in its own process as the real API runs elsewhere. */
function startFakeApiProcess(): Promise<{ url: string; close(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL("../gateway/fake-api-child.ts", import.meta.url)), {
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

function nodeExchange(env: unknown) {
  const bindings = env as { incoming?: IncomingMessage; outgoing?: unknown } | undefined;
  return bindings?.incoming && bindings.outgoing instanceof ServerResponse
    ? { incoming: bindings.incoming, outgoing: bindings.outgoing }
    : undefined;
}

/**
 * A gateway on its own loopback server, served as the app's `/box/llm` route serves it: a Hono route
 * on @hono/node-server, the answer written on the Node response, and the platform's security headers
 * set after the handler (which is also what lets node-server take the "already sent" marker).
 */
async function serveGateway(deps: ApiDeps, gateway: ModelGateway, cleanup: CleanupStack) {
  const logger = deps.logger.child({ component: "bench-gateway" });
  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    c.header("x-content-type-options", "nosniff");
    c.header("x-frame-options", "DENY");
  });
  app.all("/box/llm/*", async (c) => {
    const answer = await gateway.handle({
      request: c.req.raw,
      path: c.req.path.slice("/box/llm".length),
      logger,
      node: nodeExchange(c.env),
    });
    return answer === ANSWERED_ON_NODE
      ? new Response(null, { headers: { "x-hono-already-sent": "true" } })
      : answer;
  });
  const server = await listenOnLoopback(app.fetch);
  cleanup.push("close a bench gateway", async () => {
    await server.close();
    await gateway.close();
  });
  return { url: server.url, gateway };
}

/** A box with a token and a running run, as a box mid-run calls the gateway. */
async function benchBox(platform: Platform, cookie: string, name: string) {
  const created = await fetch(`${platform.url}/rpc/box`, {
    method: "POST",
    headers: { cookie, origin: platform.publicUrl, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = (await created.json()) as { id?: string; userId?: string };
  if (created.status !== 201 || !body.id) {
    throw new Error(`creating box '${name}' answered HTTP ${created.status}: ${JSON.stringify(body)}`);
  }
  const { deps } = platform;
  const token = await getBoxToken({ db: deps.db, keyring: deps.keyring, boxId: body.id });
  if (!token) {
    throw new Error(`box '${name}' has no token`);
  }
  return { id: body.id, name, token };
}

async function insertRunningRun(deps: ApiDeps, box: { id: string }, userId: string): Promise<string> {
  const runId = newId("run");
  await deps.db.insert(boxRun).values({
    id: runId,
    boxId: box.id,
    userId,
    trigger: "chat",
    contextType: "session",
    contextId: "bench",
    status: "running",
    prompt: "bench",
    dispatch: {},
    maxDurationMs: 3_600_000,
    startedAt: new Date(),
  });
  return runId;
}

export interface GatewayLedgerResult {
  request: string;
  latencyAtConcurrency1: {
    withLedger: Percentiles;
    withoutLedger: Percentiles;
    addedP50Ms: number;
    addedP95Ms: number;
  };
  throughputAtConcurrency16: { withLedgerRps: number; withoutLedgerRps: number; ratio: number };
  /** The batch writer called directly, one request per batch: what the ledger adds to the write itself. */
  writePerBatchOfOne: { withLedger: Percentiles; withoutLedger: Percentiles; addedP50Ms: number };
  /** Requests sent to each gateway, and the rows they left: one ledger entry per metered request, none for the baseline. */
  rows: {
    sentWithLedger: number;
    sentWithoutLedger: number;
    requestsWithLedger: number;
    ledgerEntries: number;
    /** Entries tied to the run the requests named: the ledger resolved it (and its trigger). */
    ledgerEntriesOfTheRun: number;
    requestsWithoutLedger: number;
    strayLedgerEntries: number;
  };
}

/**
 * (a) What the ledger write adds to a gateway request: two gateways on the same deps and config,
 * one writing model_request rows with their ledger entries and usage_daily sums (the platform's
 * gateway), one writing the model_request rows only (`ledger: false`, the bench-only switch), each
 * on its own loopback server, loaded alternately by the shared load client (a child process).
 */
export async function measureGatewayLedger({
  platform,
  userId,
  cookie,
  cleanup,
  signal,
}: {
  platform: Platform;
  userId: string;
  cookie: string;
  cleanup: CleanupStack;
  signal: AbortSignal;
}): Promise<GatewayLedgerResult> {
  const { deps } = platform;
  const fakeApi = await startFakeApiProcess();
  cleanup.push("stop the fake Messages API", fakeApi.close);
  log(`fake Messages API on ${fakeApi.url} (own process)`);
  const config = {
    ...deps.config.modelGateway,
    upstreamUrl: fakeApi.url,
    platformApiKey: "sk-ant-bench-platform-key",
  };
  const withLedger = await serveGateway(deps, createModelGateway({ deps, config }), cleanup);
  const withoutLedger = await serveGateway(
    deps,
    createModelGateway({ deps, config, ledger: false }),
    cleanup,
  );

  const meteredBox = await benchBox(platform, cookie, "Metered");
  const baselineBox = await benchBox(platform, cookie, "Baseline");
  const targets = {
    withLedger: {
      url: `${withLedger.url}/box/llm/v1/messages?beta=true`,
      box: meteredBox,
      runId: await insertRunningRun(deps, meteredBox, userId),
    },
    withoutLedger: {
      url: `${withoutLedger.url}/box/llm/v1/messages?beta=true`,
      box: baselineBox,
      runId: await insertRunningRun(deps, baselineBox, userId),
    },
  };
  type Mode = keyof typeof targets;
  const sent: Record<Mode, number> = { withLedger: 0, withoutLedger: 0 };
  const load = async (mode: Mode, requests: number, concurrency: number) => {
    const target = targets[mode];
    const run = await runLoad({
      url: target.url,
      headers: {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "x-api-key": target.box.token,
        "x-vps-run-id": target.runId,
      },
      body: MESSAGE,
      requests,
      concurrency,
      timeLimitMs: RUN_TIME_LIMIT_MS,
      signal,
    });
    sent[mode] += run.completed + run.errors;
    if (run.errors > 0) {
      // The fake never fails: a failed request means the figures measure something else.
      throw new Error(
        `gateway ${mode}: ${run.errors} of ${requests} requests failed, first: ${run.firstError}`,
      );
    }
    return run;
  };

  for (const mode of ["withoutLedger", "withLedger"] as const) {
    log(`gateway ${mode}: warming up (${WARMUP_REQUESTS} requests)`);
    await load(mode, WARMUP_REQUESTS, THROUGHPUT_CONCURRENCY);
  }
  const latencies: Record<Mode, Float64Array[]> = { withLedger: [], withoutLedger: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Mode[] = round % 2 === 0 ? ["withoutLedger", "withLedger"] : ["withLedger", "withoutLedger"];
    for (const mode of order) {
      log(
        `gateway ${mode}: latency round ${round + 1}/${ROUNDS} (${REQUESTS_PER_ROUND} requests, concurrency 1)`,
      );
      latencies[mode].push((await load(mode, REQUESTS_PER_ROUND, 1)).latenciesMs);
    }
  }
  const rps: Record<Mode, number> = { withLedger: 0, withoutLedger: 0 };
  for (const mode of ["withoutLedger", "withLedger"] as const) {
    log(
      `gateway ${mode}: throughput (${THROUGHPUT_REQUESTS} requests, concurrency ${THROUGHPUT_CONCURRENCY})`,
    );
    const run = await load(mode, THROUGHPUT_REQUESTS, THROUGHPUT_CONCURRENCY);
    rps[mode] = requestsPerSecond(run.completed, run.durationMs);
  }

  // Whatever the gateways still have queued is written now (a busy writer may lag behind the load).
  await Promise.all([withLedger.gateway.close(), withoutLedger.gateway.close()]);
  const countOf = async (table: typeof modelRequest | typeof ledgerEntry, where: SQL) => {
    const [row] = await deps.db.select({ n: count() }).from(table).where(where);
    return row?.n ?? 0;
  };
  const rowsOf = (table: typeof modelRequest | typeof ledgerEntry, boxId: string) =>
    countOf(table, eq(table.boxId, boxId));
  const rows = {
    sentWithLedger: sent.withLedger,
    sentWithoutLedger: sent.withoutLedger,
    requestsWithLedger: await rowsOf(modelRequest, meteredBox.id),
    ledgerEntries: await rowsOf(ledgerEntry, meteredBox.id),
    ledgerEntriesOfTheRun: await countOf(ledgerEntry, eq(ledgerEntry.runId, targets.withLedger.runId)),
    requestsWithoutLedger: await rowsOf(modelRequest, baselineBox.id),
    strayLedgerEntries: await rowsOf(ledgerEntry, baselineBox.id),
  };

  log(`batch writer: ${WRITES} single-request batches per mode`);
  const record = (box: { id: string; name: string }, runId: string): ModelRequestRecord => ({
    id: newId("modelRequest"),
    userId,
    boxId: box.id,
    boxName: box.name,
    runId,
    method: "POST",
    path: "/v1/messages",
    model: "claude-sonnet-4-5",
    streamed: true,
    keySource: "platform",
    status: 200,
    usage: { ...emptyUsage(), inputTokens: 1_234, outputTokens: 567, cacheReadTokens: 89 },
    durationMs: 3,
    errorMessage: null,
    endedAt: new Date(),
  });
  const writes: Record<Mode, Float64Array[]> = { withLedger: [], withoutLedger: [] };
  for (let round = 0; round < 2; round++) {
    for (const mode of ["withoutLedger", "withLedger"] as const) {
      const { box, runId } = targets[mode];
      writes[mode].push(
        await timeEach(WRITES / 2, () =>
          recordModelRequests({ deps, records: [record(box, runId)], ledger: mode === "withLedger" }),
        ),
      );
    }
  }

  const latency = {
    withLedger: percentiles(concat(latencies.withLedger)),
    withoutLedger: percentiles(concat(latencies.withoutLedger)),
  };
  const write = {
    withLedger: percentiles(concat(writes.withLedger)),
    withoutLedger: percentiles(concat(writes.withoutLedger)),
  };
  return {
    request: "POST /v1/messages, stream: true, with a run id (fake API in its own process)",
    latencyAtConcurrency1: {
      ...latency,
      addedP50Ms: roundMs(latency.withLedger.p50Ms - latency.withoutLedger.p50Ms),
      addedP95Ms: roundMs(latency.withLedger.p95Ms - latency.withoutLedger.p95Ms),
    },
    throughputAtConcurrency16: {
      withLedgerRps: rps.withLedger,
      withoutLedgerRps: rps.withoutLedger,
      ratio: roundMs(rps.withLedger / rps.withoutLedger),
    },
    writePerBatchOfOne: { ...write, addedP50Ms: roundMs(write.withLedger.p50Ms - write.withoutLedger.p50Ms) },
    rows,
  };
}
