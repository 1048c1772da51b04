import type { RunEvent } from "@vps-claude/contract/box-agent";
import { box, boxCronjob, boxCronjobExecution, boxRun, boxRunEvent } from "@vps-claude/db";
import { type FakeAnthropic, scriptedClaude, startFakeAnthropic } from "@vps-claude/testing";
import { type ServerProcess, spawnServerProcess, workerEnvFor } from "@vps-claude/testing/platform";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * The worker process that holds a run's event stream is SIGKILLed in the middle of the run. The API
 * and sprites-local (so the box, its box-agent and the Claude CLI) run in this process and live on;
 * the run finishes inside the box while no follower is alive. A second worker process takes the
 * stalled follow job up, reads the rest of the stream from box-agent after the last stored event,
 * and ends the run and its cron execution, exactly once.
 */

const TOOL = "mcp__box-agent__cronjob_list";
const TAG = "killed";

/** The model's second turn (after the tool) waits here until the test lets it answer. */
let secondTurnReached: () => void = () => {};
const reachedSecondTurn = new Promise<void>((resolve) => {
  secondTurnReached = resolve;
});
let releaseSecondTurn: () => void = () => {};
const secondTurnReleased = new Promise<void>((resolve) => {
  releaseSecondTurn = resolve;
});

const script = scriptedClaude({
  rules: [
    {
      when: /\bSLOW (\w+)/,
      reply: ({ match }) => ({ text: `Looking (${match?.[1]})`, toolUses: [{ name: TOOL, input: {} }] }),
    },
  ],
  afterTools: (results) => `Finished ${TAG}: ${results.map((result) => result.toolName).join(", ")}`,
});

let fake: FakeAnthropic;
let server: TestServer;
let client: TestClient;
let boxId: string;
const workers: ServerProcess[] = [];

function startWorker(): ServerProcess {
  const worker = spawnServerProcess(workerEnvFor(server));
  workers.push(worker);
  return worker;
}

const tails = () => workers.map((worker, index) => `worker ${index + 1}: ${worker.tail()}`).join("\n");

beforeAll(async () => {
  fake = await startFakeAnthropic({
    respond: async (conversation) => {
      if (/\bSLOW \w+/.test(conversation.lastUserText() ?? "") && conversation.hasPendingToolResults()) {
        secondTurnReached();
        await secondTurnReleased;
      }
      return script(conversation);
    },
  });
  // The API, the model gateway and sprites-local here; every worker in a process of its own.
  server = await startTestServer({
    workers: false,
    sprites: true,
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: "sk-ant-test" },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "600000" },
  });
  ({ client } = await signedInClient(server));
  startWorker();
  const created = await client.post("/rpc/box", { name: "Follower kill" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  const ready = await waitFor(
    async () => (await client.get(`/rpc/box/${boxId}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 180_000, interval: 500, what: "the box to deploy" },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${tails()}`);
  });
  if (ready.status !== "running") {
    throw new Error(`box did not deploy: ${JSON.stringify(ready)}\n${tails()}`);
  }
}, 240_000);

afterAll(async () => {
  releaseSecondTurn();
  await Promise.all(workers.map((worker) => worker.kill("SIGKILL")));
  await server?.close();
  await fake?.close();
});

async function boxRow() {
  const [row] = await server.deps.db.select().from(box).where(eq(box.id, boxId));
  if (!row) {
    throw new Error(`box ${boxId} is gone`);
  }
  return row;
}

async function runRow(runId: string) {
  const [row] = await server.deps.db.select().from(boxRun).where(eq(boxRun.id, runId));
  return row;
}

async function storedEvents(runId: string) {
  return server.deps.db
    .select()
    .from(boxRunEvent)
    .where(eq(boxRunEvent.runId, runId))
    .orderBy(asc(boxRunEvent.seq));
}

/** box-agent's own transcript of the run, read from its stream (the record the platform must match). */
async function boxAgentEvents(runId: string): Promise<RunEvent[]> {
  const opened = await server.deps.boxAgent.stream(
    await boxRow(),
    "runs.events",
    { id: runId },
    { signal: AbortSignal.timeout(30_000) },
  );
  if (!opened.ok) {
    throw new Error(`box-agent refused the run's events: HTTP ${opened.status} ${opened.message}`);
  }
  const events: RunEvent[] = [];
  for await (const event of opened.body) {
    events.push(event);
  }
  return events;
}

describe("the worker holding a run's stream is SIGKILLed mid-run", () => {
  it("a second worker ends the run and its cron execution exactly once, with every event stored once", async () => {
    const created = await client.post(`/rpc/box/${boxId}/cronjobs`, {
      name: "Night research",
      // Next fire on 1 January: the only tick is the one "run now" asks for.
      schedule: "0 0 1 1 *",
      prompt: `Research overnight. SLOW ${TAG}`,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const cronjobId = String(created.body.id);
    const ran = await client.post(`/rpc/box/${boxId}/cronjobs/${cronjobId}/run`);
    expect(ran.status, JSON.stringify(ran.body)).toBe(202);

    // Mid-run: the tool answered, its result is stored, and the model's next turn is under way.
    await Promise.race([
      reachedSecondTurn,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`the run's second model turn never came\n${tails()}`)), 180_000),
      ),
    ]);
    const execution = await waitFor(
      async () =>
        (
          await server.deps.db
            .select()
            .from(boxCronjobExecution)
            .where(eq(boxCronjobExecution.cronjobId, cronjobId))
        )[0],
      (row) => Boolean(row?.runId),
      { timeout: 60_000, what: "the tick's run" },
    );
    const runId = String(execution?.runId);
    await waitFor(
      () => storedEvents(runId),
      (events) => events.some((event) => event.type === "tool_result"),
      { timeout: 60_000, what: "the tool's result to be stored" },
    );
    expect((await runRow(runId))?.status).toBe("running");

    const [first] = workers;
    if (!first) {
      throw new Error("no worker process");
    }
    await first.kill("SIGKILL");
    expect(first.child.signalCode).toBe("SIGKILL");

    // The run ends inside the box with nobody following it.
    releaseSecondTurn();
    const target = await boxRow();
    await waitFor(
      async () => {
        const answer = await server.deps.boxAgent.call(target, "runs.get", { id: runId });
        return answer.ok ? answer.body.status : `HTTP ${answer.status}`;
      },
      (status) => status === "completed",
      { timeout: 120_000, what: "box-agent to finish the run" },
    );
    const beforeTakeover = await runRow(runId);
    expect(beforeTakeover?.status, "no follower is alive to end it").toBe("running");
    expect((await storedEvents(runId)).some((event) => event.type === "done")).toBe(false);

    startWorker();
    const ended = await waitFor(
      () => runRow(runId),
      (row) => row?.status !== "running" && row?.status !== "queued",
      { timeout: 150_000, interval: 500, what: "the second worker to end the run" },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${tails()}`);
    });

    // The record is the box's: same events, in order, each once, one `done`.
    const fromBox = await boxAgentEvents(runId);
    const stored = await storedEvents(runId);
    expect(stored.map((event) => [event.seq, event.type])).toEqual(
      fromBox.map((event) => [event.seq, event.type]),
    );
    expect(stored.map((event) => event.seq)).toEqual(stored.map((_, index) => index + 1));
    expect(stored.filter((event) => event.type === "done")).toHaveLength(1);
    expect(ended).toMatchObject({ status: "completed", error: null, lastEventSeq: stored.length });
    expect(ended?.result).toContain(`Finished ${TAG}`);
    expect(ended?.completedAt).toBeInstanceOf(Date);
    const done = fromBox.at(-1);
    expect(done?.type).toBe("done");
    if (done?.type === "done") {
      expect(ended?.durationMs).toBe(done.run.durationMs);
    }

    // The tick ended once, from the run: one execution, completed, and the cronjob's last run is its end.
    const ticks = await server.deps.db
      .select()
      .from(boxCronjobExecution)
      .where(eq(boxCronjobExecution.cronjobId, cronjobId));
    expect(ticks).toHaveLength(1);
    expect(ticks[0]).toMatchObject({ status: "completed", runId, errorMessage: null });
    expect(ticks[0]?.resultExcerpt).toContain(`Finished ${TAG}`);
    const [cronjob] = await server.deps.db.select().from(boxCronjob).where(eq(boxCronjob.id, cronjobId));
    expect(cronjob?.lastRunAt?.getTime()).toBe(ticks[0]?.completedAt?.getTime());

    // The follow job is done with; nothing ends the run a second time afterwards.
    await waitFor(
      async () => (await server.deps.queues.get("followRun").getJob(runId))?.getState(),
      (state) => state === "completed",
      { timeout: 30_000, what: "the follow job to complete" },
    );
    expect(await runRow(runId)).toEqual(ended);
    expect(await storedEvents(runId)).toHaveLength(stored.length);
  }, 420_000);
});
