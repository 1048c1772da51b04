import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { freePort } from "@vps-claude/testing/platform";
import type { Page } from "playwright-core";
import {
  DESKTOP,
  ensureDashboardBuilt,
  launchChromium,
  startDashboard,
  stopService,
  webDir,
} from "../../apps/web/test/browser-harness";
import { CleanupStack } from "../lib/cleanup";
import { type Distribution, distribution, sleep, waitUntil } from "../lib/distribution";
import { log, requireEnv, positiveIntegerSetting as setting } from "../lib/env";
import { startPlatform } from "../lib/platform";
import { startBareSse } from "./bare-sse";
import { type ScriptWeight, scriptSources, weighScripts } from "./bundle-size";
import { PAINT_PROBE, type PaintProbeReading, READ_PROBE } from "./paint-probe";
import { type FakeModelMessage, type FakeModelSpec, STEP_MARKER } from "./steps";

/** What we aim for; reported, never asserted (timings depend on the machine). */
const AIM_PAINT_P95_MS = 300;
const AIM_BOX_PAGE_GZIP_BYTES = 250 * 1024;
const DEPLOY_TIMEOUT_MS = 5 * 60_000;
const RUN_TIMEOUT_MS = 5 * 60_000;

const round = (value: number) => Math.round(value * 10) / 10;

async function startFakeModel(cleanup: CleanupStack, spec: FakeModelSpec): Promise<string> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./fake-model-child.ts", import.meta.url)), {
    // The child's stdout goes to our stderr: stdout carries only the result object.
    stdio: ["ignore", process.stderr, "inherit", "ipc"],
  });
  cleanup.push("stop the fake Messages API", async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.disconnect();
      await exited;
    }
  });
  const ready = new Promise<FakeModelMessage>((resolve, reject) => {
    child.once("message", (message: FakeModelMessage) => resolve(message));
    child.once("exit", (code) => reject(new Error(`the fake Messages API exited (code ${code})`)));
  });
  child.send(spec);
  return (await ready).url;
}

/** The API as the page calls it: through the dashboard's proxy, with its cookie and Origin. */
async function api<T>(page: Page, webUrl: string, method: "GET" | "POST", path: string, body?: unknown) {
  const response = await page.request.fetch(`${webUrl}${path}`, {
    method,
    headers: { origin: webUrl },
    ...(body === undefined ? {} : { data: body }),
  });
  const text = await response.text();
  if (!response.ok()) {
    throw new Error(`${method} ${path} answered HTTP ${response.status()}: ${text}`);
  }
  return JSON.parse(text) as T;
}

async function signUpWithBox(page: Page, webUrl: string): Promise<string> {
  await page.goto(`${webUrl}/sign-up`);
  await page.getByLabel("Name").fill("Bench Web");
  await page.getByLabel("Email").fill(`bench-web-${randomBytes(4).toString("hex")}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${webUrl}/`);
  const { id } = await api<{ id: string }>(page, webUrl, "POST", "/rpc/box", { name: "Paint bench" });
  await waitUntil(
    "the box to deploy",
    async () => {
      const box = await api<{ status: string; errorMessage: string | null }>(
        page,
        webUrl,
        "GET",
        `/rpc/box/${id}`,
      );
      if (box.status === "error") {
        throw new Error(`the box did not deploy: ${box.errorMessage}`);
      }
      return box.status === "running" ? true : undefined;
    },
    { timeoutMs: DEPLOY_TIMEOUT_MS, intervalMs: 1_000 },
  );
  return id;
}

async function readProbe(page: Page): Promise<PaintProbeReading> {
  return (await page.evaluate(READ_PROBE)) as PaintProbeReading;
}

/** Waits until every step's text has been painted on the page. */
async function allPainted(page: Page, turns: number, what: string): Promise<PaintProbeReading> {
  return waitUntil(
    what,
    async () => {
      const reading = await readProbe(page);
      const done = Object.values(reading.painted).filter((at) => at !== null).length >= turns;
      return done ? reading : undefined;
    },
    { timeoutMs: RUN_TIMEOUT_MS, intervalMs: 200 },
  );
}

interface StepLatencies {
  live: number[];
  /** Emitted before the page's stream was open: served as catch-up, not counted. */
  catchUp: number;
  missing: number;
}

/** Paint time minus emit time per step, live steps only. */
function latencies(emittedAt: Map<number, number>, reading: PaintProbeReading): StepLatencies {
  const result: StepLatencies = { live: [], catchUp: 0, missing: 0 };
  for (const [step, emitted] of emittedAt) {
    const painted = reading.painted[String(step)];
    if (painted === undefined || painted === null) {
      result.missing++;
    } else if (reading.streamOpenedAt !== null && emitted < reading.streamOpenedAt) {
      result.catchUp++;
    } else {
      result.live.push(painted - emitted);
    }
  }
  return result;
}

type RunEvent = { type: string; text?: string; at: string };

/** One run on the dashboard's run page: box-agent's `at` of each step's text → painted. */
async function dashboardRun(page: Page, webUrl: string, boxId: string, turns: number, index: number) {
  const { runId } = await api<{ runId: string }>(page, webUrl, "POST", `/rpc/box/${boxId}/runs`, {
    message: `Paint bench run ${index + 1}`,
  });
  const url = `${webUrl}/boxes/${boxId}/runs/${runId}`;
  await page.goto(url);
  const reading = await allPainted(page, turns, `run ${runId} to be painted`);
  const run = await api<{ status: string; events: RunEvent[] }>(
    page,
    webUrl,
    "GET",
    `/rpc/box/${boxId}/runs/${runId}`,
  );
  const emittedAt = new Map<number, number>();
  for (const event of run.events) {
    const step = event.type === "text" ? STEP_MARKER.exec(event.text ?? "")?.[1] : undefined;
    if (step) {
      emittedAt.set(Number(step), Date.parse(event.at));
    }
  }
  return { url, steps: latencies(emittedAt, reading) };
}

async function weighPage(page: Page, url: string): Promise<{ html: ScriptWeight; loaded: ScriptWeight }> {
  const loaded = new Set<string>();
  const onResponse = (response: { url(): string; request(): { resourceType(): string } }) => {
    if (response.request().resourceType() === "script") {
      loaded.add(new URL(response.url()).pathname);
    }
  };
  page.on("response", onResponse);
  const response = await page.goto(url, { waitUntil: "networkidle" });
  page.off("response", onResponse);
  const html = (await response?.text()) ?? "";
  return {
    html: weighScripts(webDir, scriptSources(html)),
    loaded: weighScripts(
      webDir,
      [...loaded].filter((path) => path.startsWith("/_next/static/")),
    ),
  };
}

function summary(all: StepLatencies[]): Distribution & { catchUp: number; missing: number } {
  return {
    ...distribution(all.flatMap((run) => run.live)),
    catchUp: all.reduce((sum, run) => sum + run.catchUp, 0),
    missing: all.reduce((sum, run) => sum + run.missing, 0),
  };
}

async function main() {
  const adminUrl = requireEnv("DATABASE_URL");
  const redisUrl = requireEnv("REDIS_URL");
  const spec: FakeModelSpec = {
    turns: setting("BENCH_WEB_TURNS", 20),
    paceMs: setting("BENCH_WEB_PACE_MS", 250),
    firstTurnDelayMs: setting("BENCH_WEB_FIRST_TURN_MS", 4_000),
  };
  const runs = setting("BENCH_WEB_RUNS", 5);
  const cleanup = new CleanupStack();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanup.run().finally(() => process.exit(130));
    });
  }
  try {
    const webPort = await freePort();
    const webUrl = `http://localhost:${webPort}`;
    log("building the dashboard (unless its build is fresh) and starting the platform");
    const built = ensureDashboardBuilt();
    const modelUrl = await startFakeModel(cleanup, spec);
    const platform = await startPlatform({
      adminUrl,
      redisUrl,
      label: "web",
      cleanup,
      env: { PUBLIC_URL: webUrl, ANTHROPIC_BASE_URL: modelUrl, ANTHROPIC_API_KEY: "sk-ant-bench" },
      boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0" },
    });
    await platform.startWorkers();
    await built;
    const web = await startDashboard(webPort, platform.url);
    cleanup.push("stop the dashboard", () => stopService(web));
    const bare = await startBareSse(spec);
    cleanup.push("stop the bare SSE server", bare.close);
    const browser = await launchChromium();
    cleanup.push("close the browser", () => browser.close());
    const context = await browser.newContext({ viewport: DESKTOP });
    await context.addInitScript(PAINT_PROBE);
    const page = await context.newPage();

    log("signing up and deploying a box");
    const boxId = await signUpWithBox(page, webUrl);
    const boxPage = await weighPage(page, `${webUrl}/boxes/${boxId}`);

    // Alternated, so both pages see the same machine load.
    const dashboard: StepLatencies[] = [];
    const bareSse: StepLatencies[] = [];
    let runPageUrl = "";
    for (let index = 0; index < runs; index++) {
      log(`run ${index + 1} of ${runs}: run page, then bare SSE page`);
      const run = await dashboardRun(page, webUrl, boxId, spec.turns, index);
      dashboard.push(run.steps);
      runPageUrl = run.url;
      const bareRun = bare.nextRun();
      await page.goto(bare.url);
      const reading = await allPainted(page, spec.turns, "the bare SSE page to be painted");
      await bareRun.finished;
      bareSse.push(latencies(bareRun.emittedAt, reading));
      await sleep(500);
    }
    const runPageWeight = await weighPage(page, runPageUrl);

    const runPage = summary(dashboard);
    const barePage = summary(bareSse);
    const result = {
      benchmark: "web",
      node: process.version,
      cpus: availableParallelism(),
      loadAverage1m: round(loadavg()[0] ?? 0),
      setup: { runs, ...spec, viewport: DESKTOP },
      eventToPaint: {
        runPage,
        bareSsePage: barePage,
        addedP50Ms: round(runPage.p50Ms - barePage.p50Ms),
        addedP95Ms: round(runPage.p95Ms - barePage.p95Ms),
      },
      javascript: { boxPage, runPage: runPageWeight },
      aims: {
        paintP95Under300Ms: runPage.p95Ms < AIM_PAINT_P95_MS,
        boxPageUnder250KbGzip: boxPage.html.gzipBytes < AIM_BOX_PAGE_GZIP_BYTES,
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await cleanup.run();
  }
}

await main();
