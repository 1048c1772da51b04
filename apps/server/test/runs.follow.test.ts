import http from "node:http";
import type { AddressInfo } from "node:net";
import { completeRun, type RunningWorkers, startRun, startWorkers } from "@vps-claude/api";
import { type RunEvent, runEventSchema } from "@vps-claude/contract/box-agent";
import { box, boxAgentConfig, boxRun, boxRunEvent } from "@vps-claude/db";
import { createRedis } from "@vps-claude/redis";
import { newId } from "@vps-claude/shared";
import { anthropicReply, type FakeAnthropic, scriptedClaude, startFakeAnthropic } from "@vps-claude/testing";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * Runs dispatched to real boxes and followed to their end: the platform's startRun, the run.follow
 * worker and completeRun against box-agent in a sprites-local sandbox, the real Claude CLI inside it
 * talking to a scripted fake Messages API. A second box has its box-agent swapped for a hostile
 * program (as its owner could), to show what the follower does with a box that lies.
 */

/** Holds every model turn whose prompt contains HOLD until the test lets it go: a run that is mid-turn for as long as the test needs. */
class Gate {
  private release: (() => void) | undefined;
  private opened = Promise.resolve();
  held = 0;

  close(): void {
    this.opened = new Promise<void>((resolve) => {
      this.release = resolve;
    });
  }

  open(): void {
    this.release?.();
  }

  async pass(): Promise<void> {
    this.held++;
    await this.opened;
  }
}

const gate = new Gate();
const script = scriptedClaude({
  rules: [
    {
      when: "TOOL",
      reply: anthropicReply.toolUse("mcp__box-agent__email_list", {}, "Looking at the inbox."),
    },
  ],
  afterTools: (results) => `Done: ${results.map((r) => r.toolName).join(", ")}`,
});

/**
 * A box-agent stand-in the owner could run: `plan.json` in its home says how it answers `POST /runs`
 * and a run's events (`hang`: never; `oversized`: an SSE event over the platform's limit; else the
 * status, headers and body given). `/health` answers ok.
 */
const HOSTILE_AGENT = `
const http = require("node:http");
const fs = require("node:fs");
const [port, dir] = process.argv.slice(2);
http.createServer((req, res) => {
  req.resume();
  let plan = {};
  try { plan = JSON.parse(fs.readFileSync(dir + "/plan.json", "utf8")); } catch {}
  const path = req.url.split("?")[0];
  const key = path === "/health" ? "health" : req.method === "POST" && path === "/runs" ? "create" : /^\\/runs\\/[^/]+\\/events$/.test(path) ? "events" : "other";
  const answer = key === "health" ? { status: 200, headers: { "content-type": "application/json" }, body: "{}" } : plan[key];
  const resumeAfter = req.headers["last-event-id"];
  fs.appendFileSync(dir + "/requests.log", key + (resumeAfter ? " after " + resumeAfter : "") + "\\n");
  if (!answer) { res.writeHead(404, { "content-type": "application/json" }); res.end('{"code":"NOT_FOUND","message":"no plan"}'); return; }
  if (answer.hang) { return; }
  if (answer.oversized) {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("id: 1\\nevent: text\\ndata: " + JSON.stringify({ seq: 1, at: new Date().toISOString(), type: "text", text: "x".repeat(1100000) }) + "\\n\\n");
    return;
  }
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body ?? "");
}).listen(Number(port), "127.0.0.1");
`;

let fake: FakeAnthropic;
let server: TestServer;
let client: TestClient;
let realBox: typeof box.$inferSelect;
let hostileBox: typeof box.$inferSelect & { home: string };
/** A stand-in for a metadata address a redirect points at: it must hear nothing. */
let metadata: http.Server;
let metadataUrl: string;
const metadataHits: string[] = [];
/** The workers that take over when the test closes the platform's own (they run to the end of the file). */
let replacement: RunningWorkers | undefined;
let replacementConnection: ReturnType<typeof createRedis> | undefined;

async function deployBox(name: string) {
  const created = await client.post("/rpc/box", { name });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = String(created.body.id);
  const running = await waitFor(
    async () => (await client.get(`/rpc/box/${id}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 180_000, interval: 300, what: `box ${name} to deploy` },
  );
  expect(running.status, JSON.stringify(running)).toBe("running");
  const [row] = await server.deps.db.select().from(box).where(eq(box.id, id));
  if (!row) {
    throw new Error(`box ${id} vanished`);
  }
  return row;
}

async function makeHostile(target: typeof box.$inferSelect) {
  const sprite = String(target.spriteName);
  const { sprites, runtime } = server.deps;
  const home = (await sprites.exec(sprite, 'printf %s "$HOME"')).stdout.trim();
  const agent = await sprites.getService(sprite, "box-agent");
  const port = agent?.httpPort;
  if (typeof port !== "number") {
    throw new Error(`box-agent's service has no HTTP port: ${JSON.stringify(agent)}`);
  }
  await sprites.writeFile(sprite, `${home}/hostile.js`, HOSTILE_AGENT);
  await sprites.putService(sprite, {
    name: "box-agent",
    cmd: runtime.nodeCommand,
    args: [`${home}/hostile.js`, String(port), home],
    dir: home,
    httpPort: port,
  });
  await sprites.waitForUrl(sprite, { path: "/health", timeoutMs: 20_000 });
  return { ...target, home };
}

async function plan(paths: Record<string, unknown>) {
  await server.deps.sprites.writeFile(
    String(hostileBox.spriteName),
    `${hostileBox.home}/plan.json`,
    JSON.stringify(paths),
  );
}

const accepted = {
  status: 202,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ runId: "whatever", status: "queued" }),
};

async function runRow(runId: string) {
  const [row] = await server.deps.db.select().from(boxRun).where(eq(boxRun.id, runId));
  if (!row) {
    throw new Error(`run ${runId} is not recorded`);
  }
  return row;
}

async function storedEvents(runId: string): Promise<RunEvent[]> {
  const rows = await server.deps.db
    .select()
    .from(boxRunEvent)
    .where(eq(boxRunEvent.runId, runId))
    .orderBy(asc(boxRunEvent.seq));
  return rows.map((row) => runEventSchema.parse(row.data));
}

const TERMINAL = ["completed", "failed", "cancelled", "interrupted"];

async function waitForEnd(runId: string, timeout = 180_000) {
  return waitFor(
    () => runRow(runId),
    (row) => TERMINAL.includes(row.status),
    { timeout, interval: 250, what: `run ${runId} to end` },
  );
}

/** Every event the bus carries for the run from now on, in arrival order. */
async function listen(runId: string) {
  const heard: RunEvent[] = [];
  const unsubscribe = await server.deps.runEvents.subscribe(runId, (event) => heard.push(event));
  return { heard, unsubscribe };
}

function chat(
  target: typeof box.$inferSelect,
  message: string,
  extra: Partial<Parameters<typeof startRun>[0]> = {},
) {
  return startRun({
    deps: server.deps,
    target,
    trigger: "chat",
    contextType: "session",
    contextId: `ctx-${newId("run").slice(-8)}`,
    task: { kind: "message", message },
    prompt: message,
    ...extra,
  });
}

beforeAll(async () => {
  metadata = http.createServer((req, res) => {
    metadataHits.push(`${req.method} ${req.url}`);
    res.end("role-credentials");
  });
  await new Promise<void>((resolve) => metadata.listen(0, "127.0.0.1", resolve));
  metadataUrl = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}`;

  fake = await startFakeAnthropic({
    respond: async (conversation) => {
      if (
        (conversation.lastUserText() ?? "").includes("HOLD") &&
        conversation.pendingToolResults().length === 0
      ) {
        await gate.pass();
      }
      return script(conversation);
    },
  });
  server = await startTestServer({
    workers: true,
    sprites: true,
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: "sk-ant-test-platform-key" },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "120000" },
  });
  ({ client } = await signedInClient(server));
  const [real, hostile] = await Promise.all([deployBox("Follower"), deployBox("Liar")]);
  realBox = real;
  hostileBox = await makeHostile(hostile);
}, 400_000);

afterAll(async () => {
  gate.open();
  await replacement?.close();
  replacementConnection?.disconnect();
  await server?.close();
  await fake?.close();
  await new Promise<void>((resolve) => (metadata ? metadata.close(() => resolve()) : resolve()));
});

describe("a run dispatched to a real box", { timeout: 300_000 }, () => {
  it("is followed live to its end: every event stored in order, published, and the run completed with its usage", async () => {
    gate.close();
    const heldBefore = gate.held;
    const { runId, created } = await chat(realBox, "HOLD, then TOOL please");
    expect(created).toBe(true);
    expect((await runRow(runId)).status).toBe("queued");

    // Mid-turn: the run is running on the platform, with its transcript so far, and a subscriber hears what follows.
    const running = await waitFor(
      () => runRow(runId),
      (row) => row.status === "running" && gate.held > heldBefore,
      { timeout: 120_000, what: "the run to start and reach the model" },
    );
    expect(running.dispatchedAt).not.toBeNull();
    expect(running.startedAt).not.toBeNull();
    const { heard, unsubscribe } = await listen(runId);
    const soFar = await storedEvents(runId);
    expect(soFar[0]).toMatchObject({ seq: 1, type: "status", status: "queued" });
    expect(soFar.some((e) => e.type === "status" && e.status === "running")).toBe(true);
    gate.open();

    const ended = await waitForEnd(runId);
    await unsubscribe();
    expect(ended.status, String(ended.error)).toBe("completed");
    expect(ended.result).toBe("Done: mcp__box-agent__email_list");
    expect(ended.sessionId).toMatch(/\S/);
    expect(ended.inputTokens).toBeGreaterThan(0);
    expect(ended.outputTokens).toBeGreaterThan(0);
    expect(typeof ended.costUsd).toBe("number");
    expect(ended.durationMs).toBeGreaterThanOrEqual(0);
    expect(ended.completedAt?.getTime()).toBeGreaterThanOrEqual(ended.startedAt?.getTime() ?? Number.NaN);

    const events = await storedEvents(runId);
    expect(
      events.map((e) => e.seq),
      "seqs are 1, 2, 3, … with no gap or repeat",
    ).toEqual(events.map((_, index) => index + 1));
    expect(ended.lastEventSeq).toBe(events.length);
    const types = events.map((e) => e.type);
    expect(types.at(-1)).toBe("done");
    expect(types.filter((t) => t === "done")).toHaveLength(1);
    const toolUse = events.find((e) => e.type === "tool_use");
    const toolResult = events.find((e) => e.type === "tool_result");
    expect(toolUse).toMatchObject({ name: "mcp__box-agent__email_list" });
    expect(toolResult).toMatchObject({ toolUseId: toolUse?.type === "tool_use" ? toolUse.toolUseId : "" });
    expect(types.indexOf("tool_use")).toBeLessThan(types.indexOf("tool_result"));
    const done = events.at(-1);
    expect(done?.type === "done" ? done.run : undefined).toMatchObject({
      status: "completed",
      sessionId: ended.sessionId,
    });

    // Live: what the subscriber heard is exactly the stored events after it subscribed, in order, ending with done.
    await expect.poll(() => heard.at(-1)?.type).toBe("done");
    const from = heard[0]?.seq ?? Number.NaN;
    expect(heard).toEqual(events.filter((e) => e.seq >= from));
    expect(heard.some((e) => e.type === "tool_use")).toBe(true);
  });

  it("dispatches what the trigger's agent config and the run's limit say, and returns the first run for an email it already has", async () => {
    await server.deps.db.insert(boxAgentConfig).values({
      id: newId("agentConfig"),
      boxId: realBox.id,
      triggerType: "session",
      model: "claude-test-model",
      systemPrompt: "You are the follower test's agent.",
      maxDurationMinutes: 7,
    });
    const emailId = newId("email");
    const first = await chat(realBox, "hello there", { links: { emailId } });
    const again = await chat(realBox, "hello there", { links: { emailId } });
    expect(again).toEqual({ runId: first.runId, created: false });
    const overridden = await chat(realBox, "with my own limit", {
      model: "claude-other",
      maxDurationMs: 90_000,
    });

    const row = await runRow(first.runId);
    expect(row.model).toBe("claude-test-model");
    expect(row.maxDurationMs).toBe(7 * 60_000);
    expect(row.dispatch).toMatchObject({
      runId: first.runId,
      trigger: "chat",
      contextType: "session",
      session: "continue",
      task: { kind: "message", message: "hello there" },
      agent: {
        model: "claude-test-model",
        systemPrompt: "You are the follower test's agent.",
        mcpServers: {},
      },
      limits: { maxDurationMs: 7 * 60_000 },
    });
    const other = await runRow(overridden.runId);
    expect(other.dispatch).toMatchObject({
      agent: { model: "claude-other" },
      limits: { maxDurationMs: 90_000 },
    });

    const [endedFirst, endedOther] = await Promise.all([
      waitForEnd(first.runId),
      waitForEnd(overridden.runId),
    ]);
    expect(endedFirst.status, String(endedFirst.error)).toBe("completed");
    expect(endedFirst.result).toBe("You said: hello there");
    expect(endedOther.status, String(endedOther.error)).toBe("completed");
    expect(fake.messageRequests().some((r) => r.body.model === "claude-other")).toBe(true);
    await server.deps.db.delete(boxAgentConfig).where(eq(boxAgentConfig.boxId, realBox.id));
  });
});

describe("a box that does not play along", { timeout: 120_000 }, () => {
  it("never answering the dispatch: the run fails at the dispatch deadline, saying the box is unreachable", async () => {
    await plan({ create: { hang: true } });
    const saved = server.deps.config.runs.dispatchDeadlineMs;
    server.deps.config.runs.dispatchDeadlineMs = 2_000;
    try {
      const { runId } = await chat(hostileBox, "anyone there?");
      const ended = await waitForEnd(runId, 60_000);
      expect(ended.status).toBe("failed");
      expect(ended.error).toMatch(/^box unreachable: the run could not be handed to it/);
      expect(ended.error).toContain(hostileBox.id);
      expect(ended.dispatchedAt).toBeNull();
      expect(await storedEvents(runId)).toEqual([]);
    } finally {
      server.deps.config.runs.dispatchDeadlineMs = saved;
    }
  });

  it("refusing the dispatch outright: the run fails at once with the box's reason", async () => {
    await plan({
      create: {
        status: 400,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code: "BAD_REQUEST", message: "I do not take runs" }),
      },
    });
    const { runId } = await chat(hostileBox, "take this");
    const ended = await waitForEnd(runId, 60_000);
    expect(ended.status).toBe("failed");
    expect(ended.error).toContain("refused the run (HTTP 400): I do not take runs");
  });

  it.each([
    [
      "a redirect to a metadata address",
      () => ({ status: 307, headers: { location: `${metadataUrl}/latest/meta-data/iam/` } }),
      /redirect \(HTTP 307 to http:\/\/127\.0\.0\.1:\d+\/latest\/meta-data\/iam\/\); the platform never follows/,
    ],
    [
      "JSON where an event stream belongs",
      () => ({ status: 200, headers: { "content-type": "application/json" }, body: "[]" }),
      /'application\/json' where an event stream \(text\/event-stream\) was expected/,
    ],
    ["an event over the size limit", () => ({ oversized: true }), /an event larger than 1048576 bytes/],
    [
      "an event of the wrong shape",
      () => ({
        status: 200,
        headers: { "content-type": "text/event-stream" },
        body: `id: 1\nevent: text\ndata: ${JSON.stringify({ seq: 1, at: "now", type: "text", text: 7 })}\n\n`,
      }),
      /sent an event with JSON of the wrong shape \(text: /,
    ],
  ])(
    "answering the events with %s: the run fails naming the box, and nothing is followed",
    async (_what, events, reason) => {
      await plan({ create: accepted, events: events() });
      const { runId } = await chat(hostileBox, "tell me lies");
      const ended = await waitForEnd(runId, 60_000);
      expect(ended.status).toBe("failed");
      expect(ended.error).toMatch(reason);
      expect(ended.error).toContain(`box 'Liar' (${hostileBox.id})`);
      expect(ended.dispatchedAt).not.toBeNull();
      expect(await storedEvents(runId)).toEqual([]);
      expect(metadataHits).toEqual([]);
    },
  );

  it("sending what Postgres cannot hold as it is (NUL, lone surrogates, counts past int4): stored made safe, and the run ends", async () => {
    const at = new Date().toISOString();
    const sse = (seq: number, data: Record<string, unknown>) =>
      `id: ${seq}\nevent: ${String(data.type)}\ndata: ${JSON.stringify({ seq, at, ...data })}\n\n`;
    const body = [
      sse(1, { type: "status", status: "running", sessionId: "sess\u0000ion" }),
      sse(2, { type: "text", text: "nul \u0000 and a lone \ud800 surrogate" }),
      sse(3, {
        type: "done",
        run: {
          status: "completed",
          sessionId: "session-1",
          result: "done \u0000",
          error: null,
          durationMs: 1e12,
          costUsd: -5,
          inputTokens: 1e12,
          outputTokens: 12,
          cacheReadTokens: null,
          cacheWriteTokens: null,
        },
      }),
    ].join("");
    await plan({
      create: accepted,
      events: { status: 200, headers: { "content-type": "text/event-stream" }, body },
    });
    const { runId } = await chat(hostileBox, "break your database");
    const ended = await waitForEnd(runId, 60_000);
    expect(ended).toMatchObject({
      status: "completed",
      sessionId: "session-1",
      result: "done ",
      durationMs: 2_147_483_647,
      inputTokens: 2_147_483_647,
      outputTokens: 12,
      costUsd: null,
    });
    const events = await storedEvents(runId);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[1]).toMatchObject({ type: "text", text: "nul  and a lone \ufffd surrogate" });
  });

  it("carrying its first event in the dispatch's answer: stored and published before the stream is opened, which is asked only for what follows", async () => {
    const at = new Date().toISOString();
    const queued = { seq: 1, at, type: "status", status: "queued" };
    const sse = (event: Record<string, unknown>) =>
      `id: ${String(event.seq)}\nevent: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;
    const done = {
      seq: 2,
      at,
      type: "done",
      run: {
        status: "completed",
        sessionId: "s-1",
        result: "ok",
        error: null,
        durationMs: 5,
        costUsd: null,
        inputTokens: null,
        outputTokens: null,
        cacheReadTokens: null,
        cacheWriteTokens: null,
      },
    };
    await plan({
      create: {
        ...accepted,
        body: JSON.stringify({ runId: "whatever", status: "queued", events: [queued] }),
      },
      // Sent again from the start whatever Last-Event-ID says, as a careless box might: stored once.
      events: {
        status: 200,
        headers: { "content-type": "text/event-stream" },
        body: sse(queued) + sse(done),
      },
    });
    const sprite = String(hostileBox.spriteName);
    await server.deps.sprites.writeFile(sprite, `${hostileBox.home}/requests.log`, "");
    const { runId } = await chat(hostileBox, "answer at once");
    const ended = await waitForEnd(runId, 60_000);
    expect(ended).toMatchObject({ status: "completed", result: "ok", lastEventSeq: 2 });
    expect(ended.dispatchedAt).not.toBeNull();
    expect((await storedEvents(runId)).map((e) => [e.seq, e.type])).toEqual([
      [1, "status"],
      [2, "done"],
    ]);
    const requests = (
      await server.deps.sprites.readFile(sprite, `${hostileBox.home}/requests.log`)
    ).toString();
    expect(requests.trim().split("\n")).toEqual(["create", "events after 1"]);
  });

  it("carrying an event of the wrong shape in the dispatch's answer: the run fails naming the box, and nothing is stored", async () => {
    await plan({
      create: {
        ...accepted,
        body: JSON.stringify({
          runId: "whatever",
          status: "queued",
          events: [{ seq: 1, at: "now", type: "text", text: 7 }],
        }),
      },
      events: { hang: true },
    });
    const { runId } = await chat(hostileBox, "lie in the answer");
    const ended = await waitForEnd(runId, 60_000);
    expect(ended.status).toBe("failed");
    expect(ended.error).toContain(`box 'Liar' (${hostileBox.id})`);
    expect(await storedEvents(runId)).toEqual([]);
  });

  it("whose final event was stored but not its end (the follower died between the two): the next follower ends it from the store", async () => {
    // The box would hang now: the run must end without asking it anything more.
    await plan({ create: { hang: true }, events: { hang: true } });
    const runId = newId("run");
    const createdAt = new Date();
    const end = {
      status: "completed" as const,
      sessionId: "session-stored",
      result: "stored answer",
      error: null,
      durationMs: 1234,
      costUsd: 0.5,
      inputTokens: 10,
      outputTokens: 20,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    };
    await server.deps.db.insert(boxRun).values({
      id: runId,
      boxId: hostileBox.id,
      userId: hostileBox.userId,
      trigger: "api",
      contextType: "session",
      contextId: "stored-done",
      status: "running",
      prompt: "already answered",
      dispatch: {},
      maxDurationMs: 60_000,
      dispatchedAt: createdAt,
      startedAt: createdAt,
      lastEventSeq: 1,
      createdAt,
    });
    await server.deps.db.insert(boxRunEvent).values({
      runId,
      seq: 1,
      type: "done",
      data: { seq: 1, at: createdAt.toISOString(), type: "done", run: end },
      at: createdAt,
    });
    await server.deps.queues.enqueue("followRun", { runId }, { jobId: runId });
    const ended = await waitForEnd(runId, 60_000);
    expect(ended).toMatchObject({
      status: "completed",
      result: "stored answer",
      durationMs: 1234,
      costUsd: 0.5,
    });
  });

  it("not knowing a run it accepted (box-agent lost its data): the run is interrupted", async () => {
    await plan({
      create: accepted,
      events: {
        status: 404,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code: "NOT_FOUND", message: "no run on this box" }),
      },
    });
    const { runId } = await chat(hostileBox, "remember this");
    const ended = await waitForEnd(runId, 60_000);
    expect(ended.status).toBe("interrupted");
    expect(ended.error).toContain("has no record of the run");
    // The end is final: whoever tries to end it again (cancel, the reconciler) changes nothing.
    const again = await completeRun({
      deps: server.deps,
      runId,
      end: { status: "cancelled", error: "late" },
    });
    expect(again.ended).toBe(false);
    expect(again.run).toMatchObject({ status: "interrupted", error: ended.error });
  });
});

describe("a run whose follower stops", { timeout: 300_000 }, () => {
  it("survives its follower stopping mid-run: another worker resumes after the last stored event, and the run ends once", async () => {
    gate.close();
    const heldBefore = gate.held;
    const { runId } = await chat(realBox, "HOLD while the follower restarts");
    await waitFor(
      () => runRow(runId),
      (row) => row.status === "running" && gate.held > heldBefore,
      { timeout: 120_000, what: "the run to reach the model" },
    );
    const { heard, unsubscribe } = await listen(runId);
    const before = await storedEvents(runId);

    // The worker process closes (a deploy of the platform, say): its follower hands the run back.
    await server.workers?.close();
    const job = await server.deps.queues.get("followRun").getJob(runId);
    expect(["delayed", "waiting"]).toContain(await job?.getState());
    expect(job?.attemptsMade, "handing over spends no attempt").toBe(0);

    replacementConnection = createRedis(server.config.REDIS_URL, "worker");
    try {
      replacement = await startWorkers({
        deps: server.deps,
        connection: replacementConnection,
        prefix: server.queuePrefix,
        runtime: server.deps.runtime,
      });
      await expect
        .poll(
          async () =>
            server.deps.queues
              .get("followRun")
              .getJob(runId)
              .then((j) => j?.getState()),
          {
            timeout: 30_000,
          },
        )
        .toBe("active");
      gate.open();
      const ended = await waitForEnd(runId);
      expect(ended.status, String(ended.error)).toBe("completed");
      expect(ended.result).toBe("You said: HOLD while the follower restarts");

      const events = await storedEvents(runId);
      expect(events.slice(0, before.length)).toEqual(before);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, index) => index + 1));
      expect(events.filter((e) => e.type === "done")).toHaveLength(1);
      await expect.poll(() => heard.filter((e) => e.type === "done").length).toBe(1);
      const seqs = heard.map((e) => e.seq);
      expect(new Set(seqs).size, "no event published twice").toBe(seqs.length);
    } finally {
      await unsubscribe();
    }
  });
});
