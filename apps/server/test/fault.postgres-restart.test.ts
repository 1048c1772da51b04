import { getBoxToken } from "@vps-claude/api";
import { agentRunSchema, type RunEvent } from "@vps-claude/contract/box-agent";
import { box, boxRun, boxRunEvent } from "@vps-claude/db";
import { type FakeAnthropic, scriptedClaude, startFakeAnthropic } from "@vps-claude/testing";
import { type PrivatePostgres, startPrivatePostgres } from "@vps-claude/testing/platform";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * The platform's Postgres, a private cluster of this test's own (never the machine's shared one),
 * is restarted while a run works, and is down while the run's last events arrive: the follower's
 * writes fail, it retries them once Postgres is back, and the run record ends correct: completed,
 * with every event the box emitted stored once.
 */

const TOOL = "mcp__box-agent__cronjob_list";
const TAG = "pgdown";

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

let postgres: PrivatePostgres;
let fake: FakeAnthropic;
let server: TestServer;
let client: TestClient;
let boxId: string;

beforeAll(async () => {
  postgres = await startPrivatePostgres({ label: "pgrestart" });
  fake = await startFakeAnthropic({
    respond: async (conversation) => {
      if (/\bSLOW \w+/.test(conversation.lastUserText() ?? "") && conversation.hasPendingToolResults()) {
        secondTurnReached();
        await secondTurnReleased;
      }
      return script(conversation);
    },
  });
  server = await startTestServer({
    label: "pgrestart",
    adminUrl: postgres.url,
    workers: true,
    sprites: true,
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: "sk-ant-test" },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "600000" },
  });
  ({ client } = await signedInClient(server));
  const created = await client.post("/rpc/box", { name: "Postgres restart" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  const ready = await waitFor(
    async () => (await client.get(`/rpc/box/${boxId}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 180_000, interval: 500, what: "the box to deploy" },
  );
  if (ready.status !== "running") {
    throw new Error(`box did not deploy: ${JSON.stringify(ready)}`);
  }
}, 300_000);

afterAll(async () => {
  releaseSecondTurn();
  // Postgres back first, so the platform's teardown (scratch database drop) can reach it.
  await postgres?.start().catch(() => {});
  await server?.close();
  await fake?.close();
  await postgres?.close();
}, 120_000);

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

/** box-agent's own transcript of the run, read from its stream. */
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

/**
 * The run as box-agent has it, asked without the platform's client (which reads the box token from
 * Postgres): through the sprite URL with the token read while Postgres was up.
 */
async function boxAgentRunStatus(spriteName: string, token: string, runId: string): Promise<string> {
  const response = await server.deps.sprites.fetchSprite(spriteName, `/runs/${runId}`, {
    headers: { "x-box-secret": token, accept: "application/json" },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) {
    return `HTTP ${response.status}`;
  }
  return agentRunSchema.parse(await response.json()).status;
}

describe("Postgres restarted mid-run", () => {
  it("the run record ends completed with all its events once Postgres is back", async () => {
    const target = await boxRow();
    const token = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId });
    if (!token || !target.spriteName) {
      throw new Error("the deployed box has no token or sprite");
    }
    const started = await client.post(`/rpc/box/${boxId}/runs`, { message: `Think it over. SLOW ${TAG}` });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const runId = String(started.body.runId);

    await Promise.race([
      reachedSecondTurn,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("the run's second model turn never came")), 180_000),
      ),
    ]);
    await waitFor(
      () => storedEvents(runId),
      (events) => events.some((event) => event.type === "tool_result"),
      { timeout: 60_000, what: "the tool's result to be stored" },
    );

    // Every connection is cut while the run works; the platform's pools must come back by themselves.
    await postgres.restart();
    expect((await runRow(runId))?.status).toBe("running");

    // Down while the run's last events come: the follower cannot write them.
    await postgres.stop("fast");
    releaseSecondTurn();
    await waitFor(
      () => boxAgentRunStatus(target.spriteName ?? "", token, runId),
      (status) => status === "completed",
      { timeout: 120_000, what: "box-agent to finish the run" },
    );
    await postgres.start();

    const ended = await waitFor(
      () => runRow(runId),
      (row) => row?.status !== "running" && row?.status !== "queued",
      { timeout: 150_000, interval: 500, what: "the follower to end the run after Postgres came back" },
    );
    const fromBox = await boxAgentEvents(runId);
    const stored = await storedEvents(runId);
    expect(stored.map((event) => [event.seq, event.type])).toEqual(
      fromBox.map((event) => [event.seq, event.type]),
    );
    expect(stored.filter((event) => event.type === "done")).toHaveLength(1);
    expect(ended).toMatchObject({ status: "completed", error: null, lastEventSeq: stored.length });
    expect(ended?.result).toContain(`Finished ${TAG}`);
    const done = fromBox.at(-1);
    expect(done?.type).toBe("done");
    if (done?.type === "done") {
      expect(ended?.durationMs).toBe(done.run.durationMs);
    }

    // The owner reads the same through the API.
    const view = await client.get(`/rpc/box/${boxId}/runs/${runId}`);
    expect(view.status, JSON.stringify(view.body)).toBe(200);
    expect(view.body).toMatchObject({ status: "completed" });
  }, 420_000);
});
