import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { freemem } from "node:os";
import { fileURLToPath } from "node:url";
import { box, boxRun, boxRunEvent } from "@vps-claude/db";
import { createRedis } from "@vps-claude/redis";
import { TestClient } from "@vps-claude/testing/platform";
import { and, count, eq, inArray, ne } from "drizzle-orm";
import type { CleanupStack } from "../lib/cleanup";
import { type Distribution, distribution, sleep, waitUntil } from "../lib/distribution";
import { log } from "../lib/env";
import { type Platform, startPlatform } from "../lib/platform";
import type { FakeModelMessage, FakeModelSpec } from "./fake-model-child";
import type { StreamResult, StreamTarget, SubscriberMessage, SubscriberRequest } from "./subscriber-child";

export interface EventLatencyOptions {
  adminUrl: string;
  redisUrl: string;
  cleanup: CleanupStack;
  boxes: number;
  runs: number;
  /** box-agent's `maxConcurrentRuns`: how many of a box's runs execute at once (the rest wait in its queue). */
  perBoxConcurrency: number;
  turns: number;
  paceMs: number;
}

const DEPLOY_TIMEOUT_MS = 10 * 60_000;
const RUNS_TIMEOUT_MS = 20 * 60_000;
/** The bare Redis baseline: messages a second, and how many before the runs (the machine otherwise idle). */
const BASELINE_RATE_PER_SECOND = 100;
const BASELINE_IDLE_MESSAGES = 500;
/** A published baseline message is padded to about the size of a transcript event. */
const BASELINE_PAD = "x".repeat(220);
const TERMINAL = ["completed", "failed", "cancelled", "interrupted"] as const;

export interface EventLatencyResult {
  setup: {
    boxes: number;
    runs: number;
    perBoxConcurrency: number;
    turnsPerRun: number;
    paceMs: number;
    /** The most runs `running` at once (sampled every 250 ms); the others were queued in their box. */
    maxRunningAtOnce: number;
    minFreeMemoryMb: number;
    loadDurationMs: number;
  };
  /** box-agent's `at` → the user stream subscriber (its own process) receiving the event. */
  pipeline: Distribution & {
    byType: Record<string, Distribution>;
    /**
     * By when the event was emitted: in the first `START_BURST_MS` of the load, while all the runs
     * are dispatched at once and the first CLIs start together, or after.
     */
    byPhase: { startBurst: Distribution; after: Distribution };
  };
  /** A bare PUBLISH from the platform's process → SUBSCRIBE in the subscriber's process, same payload size. */
  bareRedis: { idle: Distribution; duringRuns: Distribution };
  runs: Record<string, number>;
  /** The first few distinct errors of runs that did not complete. */
  runErrors: string[];
  events: {
    live: number;
    /** Emitted before the stream was open, so served from Postgres: not counted above. */
    catchUp: number;
    /** Stored for a run but never seen on its stream. */
    missing: number;
    streamsWithoutDone: number;
    streamErrors: string[];
  };
}

function forkChild(file: string): ChildProcess {
  return fork(fileURLToPath(new URL(file, import.meta.url)), {
    serialization: "advanced",
    // The child's stdout goes to our stderr: stdout carries only the result object.
    stdio: ["ignore", process.stderr, "inherit", "ipc"],
  });
}

function nextMessage<T extends { type: string }>(child: ChildProcess, type: T["type"]): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (message.type === type) {
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(message);
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`${child.spawnargs.at(-1)} exited (code ${code}) before sending '${type}'`));
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

function stopChild(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.disconnect();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
}

async function startFakeModel(cleanup: CleanupStack, spec: FakeModelSpec): Promise<string> {
  const child = forkChild("./fake-model-child.ts");
  cleanup.push("stop the fake Messages API", stopChild(child));
  const ready = nextMessage<FakeModelMessage>(child, "ready");
  child.send(spec);
  return (await ready).url;
}

async function deployBoxes(platform: Platform, client: TestClient, count: number): Promise<string[]> {
  const ids = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const res = await client.post("/rpc/box", { name: `Runs ${index + 1}` });
      if (res.status !== 201) {
        throw new Error(`creating a box answered HTTP ${res.status}: ${JSON.stringify(res.body)}`);
      }
      return String(res.body.id);
    }),
  );
  await waitUntil(
    `${count} boxes to deploy`,
    async () => {
      const rows = await platform.deps.db
        .select({ id: box.id, status: box.status, errorMessage: box.errorMessage })
        .from(box)
        .where(inArray(box.id, ids));
      const broken = rows.find((row) => row.status === "error");
      if (broken) {
        throw new Error(`box ${broken.id} failed to deploy: ${broken.errorMessage}`);
      }
      return rows.every((row) => row.status === "running") ? rows : undefined;
    },
    { timeoutMs: DEPLOY_TIMEOUT_MS, intervalMs: 1_000 },
  );
  return ids;
}

async function startRuns(client: TestClient, boxIds: string[], total: number, label: string) {
  return Promise.all(
    Array.from({ length: total }, async (_, index): Promise<StreamTarget> => {
      const boxId = String(boxIds[index % boxIds.length]);
      const res = await client.post(`/rpc/box/${boxId}/runs`, { message: `${label} run ${index + 1}` });
      if (res.status !== 202) {
        throw new Error(`starting a run answered HTTP ${res.status}: ${JSON.stringify(res.body)}`);
      }
      return { boxId, runId: String(res.body.runId) };
    }),
  );
}

async function waitForRunsToEnd(platform: Platform, runIds: string[], timeoutMs: number) {
  await waitUntil(
    `${runIds.length} runs to end`,
    async () => {
      const [open] = await platform.deps.db
        .select({ n: count() })
        .from(boxRun)
        .where(and(inArray(boxRun.id, runIds), inArray(boxRun.status, ["queued", "running"])));
      return (open?.n ?? 1) === 0 ? true : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/**
 * Publishes baseline messages at a fixed rate from this process (the platform's, as the follower
 * publishes from it) until `stop` aborts or `limit` were sent.
 */
async function publishBaseline(
  redisUrl: string,
  channel: string,
  stop: AbortSignal,
  limit = Number.POSITIVE_INFINITY,
) {
  const publisher = createRedis(redisUrl, "worker");
  try {
    const intervalMs = 1000 / BASELINE_RATE_PER_SECOND;
    const start = performance.now();
    for (let sent = 0; sent < limit && !stop.aborted; sent++) {
      const wait = start + sent * intervalMs - performance.now();
      if (wait > 0) {
        await sleep(wait);
      }
      await publisher.publish(
        channel,
        JSON.stringify({ seq: sent + 1, sentAtMs: Date.now(), pad: BASELINE_PAD }),
      );
    }
  } finally {
    publisher.disconnect();
  }
}

/** Every `everyMs`: the most runs of `runIds` running at once, and the least free memory seen. */
function sampleLoad(platform: Platform, runIds: string[], everyMs = 250) {
  let maxRunning = 0;
  let minFreeMb = Math.round(freemem() / 2 ** 20);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const [row] = await platform.deps.db
        .select({ n: count() })
        .from(boxRun)
        .where(and(inArray(boxRun.id, runIds), eq(boxRun.status, "running")));
      maxRunning = Math.max(maxRunning, row?.n ?? 0);
      minFreeMb = Math.min(minFreeMb, Math.round(freemem() / 2 ** 20));
      await sleep(everyMs);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return { maxRunning, minFreeMb };
  };
}

/** Stored events (without `done`, which a stream answers as `event: done`) that a stream never delivered. */
async function countMissing(platform: Platform, results: StreamResult[]): Promise<number> {
  let missing = 0;
  for (const result of results) {
    const stored = await platform.deps.db
      .select({ seq: boxRunEvent.seq })
      .from(boxRunEvent)
      .where(and(eq(boxRunEvent.runId, result.runId), ne(boxRunEvent.type, "done")));
    const seen = new Set(result.events.map((event) => event.seq));
    missing += stored.filter((row) => !seen.has(row.seq)).length;
  }
  return missing;
}

/** The start of the load that `byPhase.startBurst` covers. */
const START_BURST_MS = 10_000;

function summarize(results: StreamResult[], loadStarted: number) {
  const latencies: number[] = [];
  const byType = new Map<string, number[]>();
  const startBurst: number[] = [];
  const after: number[] = [];
  let catchUp = 0;
  for (const result of results) {
    for (const event of result.events) {
      if (!Number.isFinite(event.atMs) || event.atMs < result.openedAtMs) {
        catchUp++;
        continue;
      }
      const latency = event.receivedAtMs - event.atMs;
      latencies.push(latency);
      byType.set(event.type, [...(byType.get(event.type) ?? []), latency]);
      (event.atMs < loadStarted + START_BURST_MS ? startBurst : after).push(latency);
    }
  }
  return {
    pipeline: {
      ...distribution(latencies),
      byType: Object.fromEntries([...byType].map(([type, values]) => [type, distribution(values)])),
      byPhase: { startBurst: distribution(startBurst), after: distribution(after) },
    },
    live: latencies.length,
    catchUp,
  };
}

/**
 * (a) Event latency: `runs` runs started at once over `boxes` deployed boxes, each followed by a
 * user stream subscriber in a child process; every event's latency is its arrival there minus
 * box-agent's `at` (one machine, one clock). Next to it, a bare Redis publish → subscribe between
 * the same two processes, both before the runs and while they go on.
 */
export async function measureEventLatency(options: EventLatencyOptions): Promise<EventLatencyResult> {
  const { cleanup } = options;
  const fakeUrl = await startFakeModel(cleanup, { turns: options.turns, paceMs: options.paceMs });
  const platform = await startPlatform({
    adminUrl: options.adminUrl,
    redisUrl: options.redisUrl,
    label: "runs",
    cleanup,
    env: { ANTHROPIC_BASE_URL: fakeUrl, ANTHROPIC_API_KEY: "sk-ant-bench" },
    boxAgentEnv: {
      BOX_AGENT_MAX_CONCURRENT_RUNS: String(options.perBoxConcurrency),
      CLAUDE_CODE_MAX_RETRIES: "0",
      API_TIMEOUT_MS: "600000",
    },
  });
  await platform.startWorkers();
  const client = new TestClient(platform);
  await client.signUp();

  log(`deploying ${options.boxes} boxes`);
  const boxIds = await deployBoxes(platform, client, options.boxes);
  log("warm-up: one run per box");
  const warmup = await startRuns(client, boxIds, boxIds.length, "Warm-up");
  await waitForRunsToEnd(
    platform,
    warmup.map((target) => target.runId),
    RUNS_TIMEOUT_MS,
  );

  const subscriber = forkChild("./subscriber-child.ts");
  cleanup.push("stop the subscriber", stopChild(subscriber));
  const send = (request: SubscriberRequest) => subscriber.send(request);
  const channel = `${platform.queuePrefix}:bench-baseline-${randomBytes(4).toString("hex")}`;
  const redisReady = nextMessage<SubscriberMessage & { type: "redis-ready" }>(subscriber, "redis-ready");
  send({ type: "redis-listen", url: options.redisUrl, channel });
  await redisReady;
  const takeRedis = async () => {
    const taken = nextMessage<SubscriberMessage & { type: "redis-latencies" }>(subscriber, "redis-latencies");
    send({ type: "redis-take" });
    return (await taken).latenciesMs;
  };
  log(`bare Redis, idle: ${BASELINE_IDLE_MESSAGES} messages at ${BASELINE_RATE_PER_SECOND}/s`);
  await publishBaseline(options.redisUrl, channel, new AbortController().signal, BASELINE_IDLE_MESSAGES);
  await sleep(500);
  const idle = await takeRedis();

  log(`${options.runs} runs over ${options.boxes} boxes, each followed by a stream subscriber`);
  const loadStarted = Date.now();
  const targets = await startRuns(client, boxIds, options.runs, "Bench");
  const runIds = targets.map((target) => target.runId);
  const stopSampling = sampleLoad(platform, runIds);
  const opened = nextMessage<SubscriberMessage & { type: "streams-opened" }>(subscriber, "streams-opened");
  const done = nextMessage<SubscriberMessage & { type: "streams-done" }>(subscriber, "streams-done");
  send({
    type: "streams",
    baseUrl: platform.url,
    cookie: client.cookieHeader,
    targets,
    timeoutMs: RUNS_TIMEOUT_MS,
  });
  await opened;
  const stopBaseline = new AbortController();
  const baseline = publishBaseline(options.redisUrl, channel, stopBaseline.signal);
  const { results } = await done;
  const loadDurationMs = Date.now() - loadStarted;
  stopBaseline.abort();
  await baseline;
  await sleep(500);
  const duringRuns = await takeRedis();
  const { maxRunning, minFreeMb } = await stopSampling();
  log(`streams ended after ${loadDurationMs} ms; at most ${maxRunning} runs running at once`);

  const statuses = await platform.deps.db
    .select({ status: boxRun.status, n: count() })
    .from(boxRun)
    .where(inArray(boxRun.id, runIds))
    .groupBy(boxRun.status);
  const runs: Record<string, number> = Object.fromEntries(TERMINAL.map((status) => [status, 0]));
  for (const row of statuses) {
    runs[row.status] = row.n;
  }
  const failures = await platform.deps.db
    .selectDistinct({ error: boxRun.error })
    .from(boxRun)
    .where(and(inArray(boxRun.id, runIds), ne(boxRun.status, "completed")))
    .limit(5);
  const { pipeline, live, catchUp } = summarize(results, loadStarted);
  return {
    setup: {
      boxes: options.boxes,
      runs: options.runs,
      perBoxConcurrency: options.perBoxConcurrency,
      turnsPerRun: options.turns,
      paceMs: options.paceMs,
      maxRunningAtOnce: maxRunning,
      minFreeMemoryMb: minFreeMb,
      loadDurationMs,
    },
    pipeline,
    bareRedis: { idle: distribution(idle), duringRuns: distribution(duringRuns) },
    runs,
    runErrors: failures.map((row) => String(row.error).slice(0, 300)),
    events: {
      live,
      catchUp,
      missing: await countMissing(platform, results),
      streamsWithoutDone: results.filter((result) => !result.done).length,
      streamErrors: results
        .flatMap((result) => (result.error ? [`${result.runId}: ${result.error}`] : []))
        .slice(0, 5),
    },
  };
}
