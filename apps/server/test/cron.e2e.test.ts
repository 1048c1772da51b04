import { boxRun } from "@vps-claude/db";
import { nextCronFireTimes } from "@vps-claude/shared";
import {
  type AnthropicConversation,
  describeToolResults,
  type FakeAnthropic,
  startFakeAnthropic,
} from "@vps-claude/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * Cron done properly, on the real stack: a box deployed into sprites-local, the BullMQ workers, the
 * real Claude CLI in the box against a scripted fake Messages API. A tick records an execution,
 * starts a run and returns; the runs pipeline follows the run and ends the execution with it.
 * Slow runs are held by the fake (a prompt with `HOLD:<name>` waits until the test lets it go).
 */

interface Hold {
  /** Requests that reached the hold so far. */
  arrived: number;
  inFlight: number;
  /** The most requests held at once: 2 means two runs of one context ran side by side. */
  maxInFlight: number;
  release(): void;
  released: Promise<void>;
}

const holds = new Map<string, Hold>();

function holdFor(name: string): Hold {
  let hold = holds.get(name);
  if (!hold) {
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    hold = { arrived: 0, inFlight: 0, maxInFlight: 0, release, released };
    holds.set(name, hold);
  }
  return hold;
}

async function respond(conversation: AnthropicConversation) {
  const pending = conversation.pendingToolResults();
  if (pending.length > 0) {
    return describeToolResults(pending);
  }
  const prompt = conversation.lastUserText() ?? "";
  const held = /HOLD:(\S+)/.exec(prompt);
  if (held?.[1]) {
    const hold = holdFor(held[1]);
    hold.arrived++;
    hold.inFlight++;
    hold.maxInFlight = Math.max(hold.maxInFlight, hold.inFlight);
    await hold.released;
    hold.inFlight--;
  }
  return `You said: ${prompt}`;
}

let fake: FakeAnthropic;
let server: TestServer;
let client: TestClient;
let boxId: string;

interface Cronjob {
  id: string;
  enabled: boolean;
  overlap: string;
  session: string;
  model: string | null;
  maxDurationMinutes: number | null;
  nextRuns: string[];
}

interface Execution {
  id: string;
  status: string;
  errorMessage: string | null;
  sessionId: string | null;
  runId: string | null;
  costUsd: number | null;
  durationMs: number | null;
  resultExcerpt: string | null;
}

const RUN_TIMEOUT_MS = 150_000;

async function createCronjob(input: Record<string, unknown>): Promise<Cronjob> {
  const res = await client.post(`/rpc/box/${boxId}/cronjobs`, {
    // Next fire on 1 January: nothing fires by itself during the test, ticks come from "run now".
    schedule: "0 0 1 1 *",
    ...input,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as unknown as Cronjob;
}

async function runNow(cronjobId: string) {
  const res = await client.post(`/rpc/box/${boxId}/cronjobs/${cronjobId}/run`);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
}

async function executions(cronjobId: string): Promise<Execution[]> {
  const res = await client.get(`/rpc/box/${boxId}/cronjobs/${cronjobId}/executions`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  // Newest first; the tests read them oldest first.
  return (res.body as unknown as Execution[]).slice().reverse();
}

/** Waits until the cronjob has `count` executions and the last one satisfies `ready`. */
async function waitForExecution(
  cronjobId: string,
  count: number,
  ready: (execution: Execution) => boolean,
): Promise<Execution> {
  let seen: Execution[] = [];
  await expect
    .poll(
      async () => {
        seen = await executions(cronjobId);
        const last = seen[count - 1];
        return seen.length >= count && last !== undefined && ready(last);
      },
      { timeout: RUN_TIMEOUT_MS, interval: 300 },
    )
    .toBe(true);
  const execution = seen[count - 1];
  if (!execution) {
    throw new Error(`cronjob ${cronjobId} has no execution ${count}: ${JSON.stringify(seen)}`);
  }
  return execution;
}

const ended = (execution: Execution) => ["completed", "failed", "skipped"].includes(execution.status);

async function runRow(runId: string | null) {
  if (!runId) {
    throw new Error("the execution names no run");
  }
  const [row] = await server.deps.db.select().from(boxRun).where(eq(boxRun.id, runId));
  if (!row) {
    throw new Error(`run ${runId} is not recorded`);
  }
  return row;
}

async function waitForRunStatus(runId: string | null, wanted: string) {
  await expect
    .poll(async () => (await runRow(runId)).status, { timeout: RUN_TIMEOUT_MS, interval: 300 })
    .toBe(wanted);
}

/** The model requests that carried a cron prompt containing `marker` (the run's first turn). */
const requestsWith = (marker: string) =>
  fake.messageRequests().filter((request) => request.conversation.lastUserText()?.includes(marker));

beforeAll(async () => {
  fake = await startFakeAnthropic({ respond });
  server = await startTestServer({
    workers: true,
    sprites: true,
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: "sk-ant-test-platform-key" },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "600000" },
  });
  ({ client } = await signedInClient(server));
  const created = await client.post("/rpc/box", { name: "Cron" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  const status = await waitFor(
    async () => String((await client.get(`/rpc/box/${boxId}`)).body.status),
    (value) => value === "running" || value === "error",
    { timeout: 180_000, interval: 500, what: "the box to deploy" },
  );
  expect(status).toBe("running");
}, 240_000);

afterAll(async () => {
  for (const hold of holds.values()) {
    hold.release();
  }
  await server?.close();
  await fake?.close();
});

describe("a cronjob's settings", () => {
  it("default to skip and a fresh session, and the DTO lists the next five fire times in its zone", async () => {
    const cronjob = await createCronjob({
      name: "Tokyo morning",
      schedule: "30 6 * * *",
      prompt: "Good morning",
      timezone: "Asia/Tokyo",
    });
    expect(cronjob).toMatchObject({
      overlap: "skip",
      session: "fresh",
      model: null,
      maxDurationMinutes: null,
    });
    expect(cronjob.nextRuns).toHaveLength(5);
    // 06:30 in Tokyo is 21:30 UTC the day before, every day.
    expect(
      cronjob.nextRuns.every((at) => at.endsWith("T21:30:00.000Z")),
      cronjob.nextRuns.join(),
    ).toBe(true);
    expect(cronjob.nextRuns[0]).toBe(
      nextCronFireTimes("30 6 * * *", { count: 1, timezone: "Asia/Tokyo" })[0]?.toISOString(),
    );

    const updated = await client.put(`/rpc/box/${boxId}/cronjobs/${cronjob.id}`, {
      overlap: "queue",
      session: "continue",
      model: "claude-opus-4-1",
      maxDurationMinutes: 240,
    });
    expect(updated.body, JSON.stringify(updated.body)).toMatchObject({
      overlap: "queue",
      session: "continue",
      model: "claude-opus-4-1",
      maxDurationMinutes: 240,
    });
    const reset = await client.put(`/rpc/box/${boxId}/cronjobs/${cronjob.id}`, {
      model: null,
      maxDurationMinutes: null,
    });
    expect(reset.body).toMatchObject({ model: null, maxDurationMinutes: null, session: "continue" });

    const tooLong = await client.put(`/rpc/box/${boxId}/cronjobs/${cronjob.id}`, { maxDurationMinutes: 241 });
    expect(tooLong.status).toBe(400);
    expect(String(tooLong.body.message)).toContain("maxDurationMinutes must be at most 240");
    const badModel = await client.put(`/rpc/box/${boxId}/cronjobs/${cronjob.id}`, {
      model: "no spaces allowed",
    });
    expect(badModel.status).toBe(400);
    expect(String(badModel.body.message)).toContain("model must be a model id");

    const paused = await client.post(`/rpc/box/${boxId}/cronjobs/${cronjob.id}/toggle`, { enabled: false });
    expect(paused.body.nextRuns).toEqual([]);
  });

  it("records a disabled job's tick skipped, starting no run", async () => {
    const cronjob = await createCronjob({ name: "Off", prompt: "never", enabled: false });
    await runNow(cronjob.id);
    const execution = await waitForExecution(cronjob.id, 1, ended);
    expect(execution).toMatchObject({ status: "skipped", errorMessage: "cronjob is disabled", runId: null });
  });
});

describe("overlap", () => {
  it("skip: a tick while the previous run still works is skipped naming that run, which then completes", async () => {
    const cronjob = await createCronjob({ name: "Slow skip", prompt: "Research HOLD:skip" });
    await runNow(cronjob.id);
    const first = await waitForExecution(cronjob.id, 1, (e) => e.status === "running");
    expect(first.runId).toMatch(/^run_/);
    await waitForRunStatus(first.runId, "running");
    await expect.poll(() => holdFor("skip").arrived, { timeout: RUN_TIMEOUT_MS }).toBe(1);

    await runNow(cronjob.id);
    const second = await waitForExecution(cronjob.id, 2, ended);
    expect(second).toMatchObject({
      status: "skipped",
      errorMessage: `previous run ${first.runId} still running`,
      runId: null,
    });

    holdFor("skip").release();
    const done = await waitForExecution(cronjob.id, 1, ended);
    const run = await runRow(done.runId);
    // The cost the owner sees: the ledger's sum for the run, on the run and on its execution alike.
    const shown = await client.get(`/rpc/box/${boxId}/runs/${done.runId}`);
    expect(done, JSON.stringify(done)).toMatchObject({
      status: "completed",
      runId: first.runId,
      sessionId: run.sessionId,
      costUsd: shown.body.costUsd,
    });
    expect(shown.body.costUsd, "the run's cost reached the execution").toEqual(expect.any(Number));
    expect(done.sessionId).toEqual(expect.any(String));
    expect(done.resultExcerpt).toContain("Research HOLD:skip");
    expect(done.durationMs).toBeGreaterThan(0);
    expect(holdFor("skip").arrived, "the skipped tick never reached Claude").toBe(1);
  });

  it("queue: a tick while the previous run works is run after it, not beside it", async () => {
    const cronjob = await createCronjob({
      name: "Slow queue",
      prompt: "Research HOLD:queue",
      overlap: "queue",
    });
    await runNow(cronjob.id);
    const first = await waitForExecution(cronjob.id, 1, (e) => e.status === "running");
    await expect.poll(() => holdFor("queue").arrived, { timeout: RUN_TIMEOUT_MS }).toBe(1);

    await runNow(cronjob.id);
    const second = await waitForExecution(cronjob.id, 2, (e) => e.status === "running");
    expect(second.runId).toMatch(/^run_/);
    expect(second.runId).not.toBe(first.runId);
    // box-agent has the second run, and holds it back while the first works.
    await expect
      .poll(async () => (await runRow(second.runId)).dispatchedAt, { timeout: RUN_TIMEOUT_MS })
      .toBeInstanceOf(Date);
    expect((await runRow(second.runId)).status).toBe("queued");
    expect(holdFor("queue").arrived).toBe(1);

    holdFor("queue").release();
    expect(await waitForExecution(cronjob.id, 1, ended)).toMatchObject({ status: "completed" });
    expect(await waitForExecution(cronjob.id, 2, ended)).toMatchObject({
      status: "completed",
      runId: second.runId,
    });
    expect(holdFor("queue")).toMatchObject({ arrived: 2, maxInFlight: 1 });
  });
});

describe("session", () => {
  async function twoTicks(name: string, session?: string) {
    const marker = `remember-${name}`;
    const cronjob = await createCronjob({ name, prompt: `Note ${marker}`, ...(session ? { session } : {}) });
    await runNow(cronjob.id);
    const first = await waitForExecution(cronjob.id, 1, ended);
    await runNow(cronjob.id);
    const second = await waitForExecution(cronjob.id, 2, ended);
    expect(first.status, JSON.stringify(first)).toBe("completed");
    expect(second.status, JSON.stringify(second)).toBe("completed");
    const requests = requestsWith(marker);
    expect(requests).toHaveLength(2);
    const earlierTurns = (requests[1]?.conversation.userTexts() ?? []).filter((text) =>
      text.includes(marker),
    );
    return { first, second, earlierTurns };
  }

  it("fresh (the default): each tick is a new Claude session that has not seen the last", async () => {
    const { first, second, earlierTurns } = await twoTicks("fresh");
    expect(first.sessionId).toEqual(expect.any(String));
    expect(second.sessionId).not.toBe(first.sessionId);
    expect((await runRow(second.runId)).sessionId).toBe(second.sessionId);
    expect(earlierTurns).toHaveLength(1);
  });

  it("continue: every tick resumes the job's session, and Claude sees the earlier tick", async () => {
    const { first, second, earlierTurns } = await twoTicks("continue", "continue");
    expect(second.sessionId).toBe(first.sessionId);
    expect((await runRow(first.runId)).sessionId).toBe((await runRow(second.runId)).sessionId);
    expect(earlierTurns).toHaveLength(2);
  });
});

describe("a cronjob's own model and limit", () => {
  it("reach the run: the model in the Messages API request, the limit on the run record", async () => {
    const cronjob = await createCronjob({
      name: "Opus",
      prompt: "Think hard model-override",
      // Not a retired id: Claude Code swaps those for their successor before it calls the API.
      model: "claude-haiku-4-5",
      maxDurationMinutes: 7,
    });
    await runNow(cronjob.id);
    const execution = await waitForExecution(cronjob.id, 1, ended);
    expect(execution.status, JSON.stringify(execution)).toBe("completed");
    const run = await runRow(execution.runId);
    expect(run).toMatchObject({ model: "claude-haiku-4-5", maxDurationMs: 7 * 60_000, trigger: "cron" });
    const [request] = requestsWith("model-override");
    expect(request?.body.model).toBe("claude-haiku-4-5");
  });
});
