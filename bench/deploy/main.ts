import { availableParallelism, loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { startFakeAnthropic } from "@vps-claude/testing";
import { CleanupStack } from "../lib/cleanup";
import { distribution, nowMs, sleep } from "../lib/distribution";
import { log, requireEnv } from "../lib/env";
import { startPlatform } from "../lib/platform";
import { type SandboxCall, timeSpritesClient } from "../lib/timed-sprites";
import { UserClient } from "../lib/user-client";
import { boxAgentMemory } from "./box-agent-memory";
import { type DeployedBox, deployAtOnce, deployOneAfterAnother } from "./deploy-boxes";
import { measureFirstMessage } from "./first-message";
import { loadStepRows, stepSamples, summarizeSandboxCalls, summarizeSteps } from "./step-overhead";

const SERIAL_BOXES = 20;
const PARALLEL_BOXES = 10;
const SERIAL_TIMEOUT_PER_BOX_MS = 120_000;
const PARALLEL_TIMEOUT_MS = 300_000;
const FIRST_MESSAGE_SAMPLES = 10;
/** Quiet time before reading memory, so startup garbage and the last health checks are behind us. */
const IDLE_SETTLE_MS = 5_000;

/** What we aim for; reported, never asserted (timings depend on the machine). */
const AIM_OVERHEAD_PER_STEP_MS = 50;
const AIM_IDLE_RSS_MB = 80;
const AIM_FIRST_MESSAGE_RATIO = 1.1;

async function main() {
  const adminUrl = requireEnv("DATABASE_URL");
  const redisUrl = requireEnv("REDIS_URL");
  const cleanup = new CleanupStack();
  cleanup.onSignals(new AbortController());
  try {
    // Answers every message at once with "OK": Claude's own latency is not what is measured.
    const anthropic = await startFakeAnthropic();
    cleanup.push("stop fake Anthropic", anthropic.close);
    const platform = await startPlatform({
      adminUrl,
      redisUrl,
      label: "deploy",
      cleanup,
      env: { ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: "sk-ant-bench" },
      boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0" },
    });
    const calls: SandboxCall[] = [];
    // Before the workers start: they take the runtime's client when they run a step.
    platform.deps.runtime.sprites = timeSpritesClient(platform.deps.runtime.sprites, calls);
    await platform.startWorkers();
    const client = new UserClient(platform.url, platform.publicUrl);
    await client.signUp();

    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const phase = async (run: () => Promise<DeployedBox[]>) => {
      loopDelay.reset();
      calls.length = 0;
      const startedAt = nowMs();
      const boxes = await run();
      const wallMs = Math.round(nowMs() - startedAt);
      return {
        boxes,
        wallMs,
        calls: calls.splice(0),
        eventLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e5) / 10,
      };
    };

    log(`deploying ${SERIAL_BOXES} boxes one after another`);
    const serial = await phase(() =>
      deployOneAfterAnother(platform, client, SERIAL_BOXES, SERIAL_TIMEOUT_PER_BOX_MS, (index, deployed) =>
        log(
          `  ${index + 1}/${SERIAL_BOXES} running after ${Math.round(deployed.runningAtMs - deployed.requestedAtMs)} ms`,
        ),
      ),
    );
    log(`deploying ${PARALLEL_BOXES} boxes at once`);
    const parallel = await phase(() => deployAtOnce(platform, client, PARALLEL_BOXES, PARALLEL_TIMEOUT_MS));
    log(`  all ${PARALLEL_BOXES} running after ${parallel.wallMs} ms`);
    loopDelay.disable();

    const allBoxes = [...serial.boxes, ...parallel.boxes];
    const rows = await loadStepRows(
      platform.deps.db,
      allBoxes.map((deployed) => deployed.id),
    );
    const describePhase = (ran: typeof serial) => ({
      boxes: ran.boxes.length,
      wallMs: ran.wallMs,
      deployMs: distribution(ran.boxes.map((deployed) => deployed.runningAtMs - deployed.requestedAtMs)),
      observedByPollingP50Ms: distribution(
        ran.boxes.map((deployed) => deployed.observedRunningAtMs - deployed.requestedAtMs),
      ).p50Ms,
      orchestration: summarizeSteps(stepSamples(rows, ran.boxes, ran.calls), ran.boxes),
      sandboxCalls: summarizeSandboxCalls(ran.calls),
      eventLoopDelayP99Ms: ran.eventLoopDelayP99Ms,
    });
    const serialReport = describePhase(serial);
    const parallelReport = describePhase(parallel);

    log(`waiting ${IDLE_SETTLE_MS} ms, then reading box-agent memory of ${allBoxes.length} boxes`);
    await sleep(IDLE_SETTLE_MS);
    const memory = await Promise.all(
      allBoxes.map((deployed) => boxAgentMemory(platform.deps.sprites, deployed.spriteName)),
    );

    const warmBox = serial.boxes[serial.boxes.length - 1];
    if (!warmBox) {
      throw new Error("no box deployed");
    }
    log(`time to first Claude message on ${warmBox.id} (${FIRST_MESSAGE_SAMPLES} samples + 1 first)`);
    const firstMessage = await measureFirstMessage({
      platform,
      client,
      boxId: warmBox.id,
      anthropicUrl: anthropic.url,
      samples: FIRST_MESSAGE_SAMPLES,
    });
    await sleep(IDLE_SETTLE_MS);
    const afterRuns = await boxAgentMemory(platform.deps.sprites, warmBox.spriteName);

    const idleRss = distribution(memory.map((entry) => entry.rssMb));
    const result = {
      benchmark: "deploy",
      node: process.version,
      cpus: availableParallelism(),
      loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      sandboxMode: platform.spritesLocal.sandboxMode,
      serial: serialReport,
      parallel: parallelReport,
      boxAgentIdleRssMb: {
        boxes: memory.length,
        p50: idleRss.p50Ms,
        max: idleRss.maxMs,
        anonP50: distribution(memory.map((entry) => entry.rssAnonMb)).p50Ms,
        fileBackedP50: distribution(memory.map((entry) => entry.rssFileMb)).p50Ms,
        // The SDK is loaded lazily on the first run, so a box that has talked to Claude sits higher.
        afterClaudeRuns: afterRuns.rssMb,
      },
      firstMessage,
      aims: {
        // Mean over all steps of all boxes; the parallel phase includes waiting for a free worker.
        overheadUnder50msPerStepSerial:
          serialReport.orchestration.overheadPerStep.meanMs < AIM_OVERHEAD_PER_STEP_MS,
        overheadUnder50msPerStepParallel:
          parallelReport.orchestration.overheadPerStep.meanMs < AIM_OVERHEAD_PER_STEP_MS,
        idleRssUnder80Mb: idleRss.maxMs < AIM_IDLE_RSS_MB,
        firstMessageWithin10PctOfBaseline: firstMessage.ratio <= AIM_FIRST_MESSAGE_RATIO,
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await cleanup.run();
  }
}

await main();
