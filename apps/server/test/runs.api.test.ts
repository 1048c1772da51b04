import { completeRun } from "@vps-claude/api";
import type { RunEvent } from "@vps-claude/contract/box-agent";
import { box, boxRun, boxRunEvent } from "@vps-claude/db";
import { createRedis } from "@vps-claude/redis";
import { generateSubdomain, newId } from "@vps-claude/shared";
import { type FakeAnthropic, scriptedClaude, startFakeAnthropic } from "@vps-claude/testing";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * The owner's runs API end to end: Postgres, BullMQ, the follower, Redis pub/sub, a sprites-local
 * sandbox running box-agent, and the real Agent SDK and CLI against a fake Messages API. A prompt
 * "SLOW <tag>" makes Claude call a tool, then holds the model's next turn until the test releases
 * the tag, so "while it runs" is a state the test controls rather than a race against a clock.
 */

const TOOL = "mcp__box-agent__cronjob_list";
/** Each test drives real Claude runs in a real sandbox on a shared, busy machine. */
const RUN_TEST_TIMEOUT_MS = 180_000;

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Per tag: `reached` once the held model turn has been asked for, `release` lets it answer. */
const gates = new Map<string, { reached: Deferred; release: Deferred }>();
function gate(tag: string) {
  let found = gates.get(tag);
  if (!found) {
    found = { reached: deferred(), release: deferred() };
    gates.set(tag, found);
  }
  return found;
}

const script = scriptedClaude({
  rules: [
    {
      when: /\bSLOW (\w+)/,
      reply: ({ match }) => ({ text: `Looking (${match?.[1]})`, toolUses: [{ name: TOOL, input: {} }] }),
    },
  ],
  afterTools: (results, conversation) => {
    const tag = /\bSLOW (\w+)/.exec(conversation.lastUserText() ?? "")?.[1] ?? "?";
    return `Finished ${tag}: ${results.map((result) => `${result.toolName} ${result.isError ? "failed" : "ok"}`).join(", ")}`;
  },
});

let fake: FakeAnthropic;
let server: TestServer;
let client: TestClient;
let boxId: string;
let userId: string;

beforeAll(async () => {
  fake = await startFakeAnthropic({
    respond: async (conversation) => {
      const tag = /\bSLOW (\w+)/.exec(conversation.lastUserText() ?? "")?.[1];
      if (tag && conversation.hasPendingToolResults()) {
        const held = gate(tag);
        held.reached.resolve();
        await held.release.promise;
      }
      return script(conversation);
    },
  });
  server = await startTestServer({
    workers: true,
    sprites: true,
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: "sk-ant-test" },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "600000" },
  });
  ({
    client,
    user: { userId },
  } = await signedInClient(server));
  const created = await client.post("/rpc/box", { name: "Runner" });
  boxId = String(created.body.id);
  const ready = await waitFor(
    async () => (await client.get(`/rpc/box/${boxId}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 120_000, what: "the box to deploy" },
  );
  if (ready.status !== "running") {
    throw new Error(`box did not deploy: ${JSON.stringify(ready)}`);
  }
}, 180_000);

afterAll(async () => {
  for (const { release } of gates.values()) {
    release.resolve();
  }
  await server?.close();
  await fake?.close();
});

interface SseMessage {
  id?: string;
  event: string;
  data: unknown;
}

/**
 * A subscriber as a browser's EventSource is one: real HTTP, the session cookie, the bytes parsed by
 * the SSE rules (blank-line separated, `id:`/`event:`/`data:` fields, `:` comments).
 */
class SseReader {
  readonly messages: SseMessage[] = [];
  raw = "";
  contentType: string | null = null;
  status = 0;
  private buffer = "";
  private ended = false;
  private readonly abort = new AbortController();
  private pump: Promise<void> = Promise.resolve();
  private failure: unknown;

  async open(path: string, lastEventId?: string): Promise<this> {
    const response = await fetch(`${server.url}${path}`, {
      headers: {
        cookie: client.cookieHeader,
        accept: "text/event-stream",
        ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }),
      },
      signal: this.abort.signal,
    });
    this.status = response.status;
    this.contentType = response.headers.get("content-type");
    const body = response.body;
    if (!body) {
      throw new Error(`stream ${path} answered ${response.status} without a body`);
    }
    // Kept, not thrown: a stream cut while no test awaits it must not surface as an unhandled rejection.
    this.pump = this.read(body.pipeThrough(new TextDecoderStream())).catch((error: unknown) => {
      this.failure = error;
    });
    return this;
  }

  private async read(stream: ReadableStream<string>): Promise<void> {
    try {
      for await (const chunk of stream) {
        this.raw += chunk;
        this.buffer += chunk;
        for (let end = this.buffer.indexOf("\n\n"); end >= 0; end = this.buffer.indexOf("\n\n")) {
          this.parse(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (!this.abort.signal.aborted) {
        throw error;
      }
    } finally {
      this.ended = true;
    }
  }

  private parse(block: string): void {
    const message: { id?: string; event: string; data: string[] } = { event: "message", data: [] };
    for (const line of block.split("\n")) {
      if (line.startsWith(":") || line === "") {
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") {
        message.id = value;
      } else if (field === "event") {
        message.event = value;
      } else if (field === "data") {
        message.data.push(value);
      }
    }
    if (message.data.length > 0) {
      this.messages.push({ id: message.id, event: message.event, data: JSON.parse(message.data.join("\n")) });
    }
  }

  events(): { seq: number; type: string; [key: string]: unknown }[] {
    return this.messages
      .filter((message) => message.event === "message")
      .map((message) => message.data as { seq: number; type: string });
  }

  done(): SseMessage | undefined {
    return this.messages.find((message) => message.event === "done");
  }

  /** Resolves when the server ended the stream. */
  async finished(): Promise<this> {
    await this.pump;
    if (this.failure !== undefined) {
      throw new Error(`the stream broke before its end; got so far: ${this.raw}`, { cause: this.failure });
    }
    return this;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  close(): Promise<void> {
    this.abort.abort();
    return this.pump;
  }
}

type RunBody = Record<string, unknown> & {
  status: string;
  events: { seq: number; type: string; [key: string]: unknown }[];
};

const runPath = (runId: string) => `/rpc/box/${boxId}/runs/${runId}`;
const getRun = async (runId: string) => {
  const res = await client.get(runPath(runId));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as unknown as RunBody;
};

async function startRun(message: string, contextId?: string) {
  const res = await client.post(`/rpc/box/${boxId}/runs`, { message, ...(contextId ? { contextId } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return { runId: String(res.body.runId), contextId: String(res.body.contextId) };
}

const waitForEnd = (runId: string) =>
  waitFor(
    () => getRun(runId),
    (run) => !["queued", "running"].includes(run.status),
    { timeout: 120_000, what: `run ${runId} to end` },
  );

function expectInSequence(events: { seq: number }[], from = 1) {
  expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => from + index));
}

describe("runs: start, watch live, finish", () => {
  let firstRunId = "";

  it(
    "answers 202 at once; while the run works it shows running with its transcript, and a stream subscriber sees it live",
    async () => {
      const { runId, contextId } = await startRun("SLOW alpha: what cronjobs do I have?");
      firstRunId = runId;
      expect(runId).toMatch(/^run_/);
      expect(contextId).toMatch(/^chat-[0-9a-f]{16}$/);

      const stream = await new SseReader().open(`${runPath(runId)}/stream`);
      expect(stream.status).toBe(200);
      expect(stream.contentType).toMatch(/^text\/event-stream/);

      // Claude called its tool and is now "thinking": the run cannot end before the test releases it.
      await gate("alpha").reached.promise;
      const during = await waitFor(
        () => getRun(runId),
        (run) => run.events.some((event) => event.type === "tool_result"),
        { timeout: 60_000, what: "the tool result in the stored transcript" },
      );
      expect(during.status).toBe("running");
      expect(during.startedAt).not.toBeNull();
      expect(during.completedAt).toBeNull();
      expectInSequence(during.events);
      expect(during.events.map((event) => event.type)).toEqual(
        expect.arrayContaining(["status", "text", "tool_use", "tool_result"]),
      );
      expect(during.events.find((event) => event.type === "tool_use")).toMatchObject({ name: TOOL });
      expect(JSON.stringify(during)).not.toContain('"dispatch"');

      await waitFor(
        async () => stream.events(),
        (events) => events.some((event) => event.type === "tool_result"),
        { timeout: 30_000, what: "the stream subscriber to receive the tool result live" },
      );
      expect(stream.isEnded, "the stream stays open while the run works").toBe(false);
      expect(stream.done()).toBeUndefined();

      gate("alpha").release.resolve();
      await stream.finished();
      const done = stream.done();
      expect(done?.data, stream.raw).toMatchObject({ id: runId, status: "completed" });
      expect(String((done?.data as { result?: string } | undefined)?.result)).toContain("Finished alpha");
      // Every transcript event once, in order, each with its seq as the SSE id; `done` is not among them.
      const events = stream.events();
      expectInSequence(events);
      expect(
        stream.messages
          .filter((m) => m.event === "message")
          .every((m) => m.id === String((m.data as { seq: number }).seq)),
      ).toBe(true);
      expect(events.some((event) => event.type === "done")).toBe(false);
      expect(stream.raw).toMatch(/^id: 1$/m);
      expect(stream.raw).toMatch(/^event: message$/m);
      expect(stream.raw).toMatch(/^event: done$/m);

      const finished = await getRun(runId);
      expect(finished).toMatchObject({
        status: "completed",
        trigger: "chat",
        contextType: "session",
        contextId,
      });
      expect(finished.sessionId).toEqual(expect.any(String));
      expect(finished.durationMs).toEqual(expect.any(Number));
      expect(String(finished.result)).toContain("Finished alpha");
      expect(finished.events.slice(0, events.length)).toEqual(events);
    },
    RUN_TEST_TIMEOUT_MS,
  );

  it(
    "resumes a stream after Last-Event-ID, without repeating what the client had",
    async () => {
      const all = (await getRun(firstRunId)).events.filter((event) => event.type !== "done");
      expect(all.length).toBeGreaterThan(2);
      const resumed = await (await new SseReader().open(`${runPath(firstRunId)}/stream`, "2")).finished();
      expect(resumed.events().map((event) => event.seq)).toEqual(all.slice(2).map((event) => event.seq));
      expect(resumed.done()?.data).toMatchObject({ id: firstRunId, status: "completed" });
    },
    RUN_TEST_TIMEOUT_MS,
  );

  it(
    "resumes a live stream: a subscriber that left and came back gets each event exactly once",
    async () => {
      const { runId } = await startRun("SLOW beta: and now?");
      const first = await new SseReader().open(`${runPath(runId)}/stream`);
      await gate("beta").reached.promise;
      await waitFor(
        async () => first.events(),
        (events) => events.some((event) => event.type === "tool_result"),
        { timeout: 60_000, what: "the first subscriber to see the tool result" },
      );
      await first.close();
      const seen = first.events();
      const last = seen.at(-1)?.seq ?? 0;

      const second = await new SseReader().open(`${runPath(runId)}/stream`, String(last));
      gate("beta").release.resolve();
      await second.finished();
      const combined = [...seen, ...second.events()];
      expectInSequence(combined);
      expect(second.done()?.data).toMatchObject({ id: runId, status: "completed" });
    },
    RUN_TEST_TIMEOUT_MS,
  );

  it(
    "answers 404 for a stream of a run that does not exist",
    async () => {
      const res = await client.get(`${runPath(newId("run"))}/stream`);
      expect(res.status, JSON.stringify(res.body)).toBe(404);
    },
    RUN_TEST_TIMEOUT_MS,
  );
});

describe("runs: cancel", () => {
  it(
    "a cancelled run ends cancelled within seconds, and its stream says so",
    async () => {
      const { runId } = await startRun("SLOW gamma: take your time");
      const stream = await new SseReader().open(`${runPath(runId)}/stream`);
      await gate("gamma").reached.promise;

      const res = await client.post(`${runPath(runId)}/cancel`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.id).toBe(runId);
      const ended = await waitForEnd(runId);
      expect(ended.status).toBe("cancelled");
      expect(ended.completedAt).not.toBeNull();

      await stream.finished();
      expect(stream.done()?.data).toMatchObject({ id: runId, status: "cancelled" });

      // Cancelling what already ended changes nothing.
      const again = await client.post(`${runPath(runId)}/cancel`);
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.body.status).toBe("cancelled");
      gate("gamma").release.resolve();
    },
    RUN_TEST_TIMEOUT_MS,
  );
});

describe("runs: blocking sessions/send on top of runs", () => {
  it(
    "answers Claude's result once the run ends, and the run is on record",
    async () => {
      const res = await client.post(`/rpc/box/${boxId}/sessions/send`, {
        contextId: "owner",
        message: "hello there",
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ status: "completed", result: "You said: hello there" });
      expect(res.body.sessionId).toEqual(expect.any(String));
      const run = await getRun(String(res.body.runId));
      expect(run).toMatchObject({
        trigger: "chat",
        contextType: "session",
        contextId: "owner",
        status: "completed",
      });

      // The same context continues the same Claude session.
      const next = await client.post(`/rpc/box/${boxId}/sessions/send`, {
        contextId: "owner",
        message: "again",
      });
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(next.body.sessionId).toBe(res.body.sessionId);
    },
    RUN_TEST_TIMEOUT_MS,
  );
});

describe("runs: list", () => {
  /** A box of the owner's with runs as rows only: ties in creation time, down to the microsecond. */
  async function boxWithRuns() {
    const [ledger] = await server.deps.db
      .insert(box)
      .values({ id: newId("box"), userId, name: "Ledger", subdomain: generateSubdomain("ledger") })
      .returning();
    if (!ledger) {
      throw new Error("inserting the box returned no row");
    }
    const row = (index: number, trigger: "chat" | "email" | "cron", status: "completed" | "failed") => {
      const id = newId("run");
      return {
        id,
        boxId: ledger.id,
        userId,
        trigger,
        contextType: trigger === "chat" ? "session" : trigger,
        contextId: `ctx-${index}`,
        status,
        prompt: `run ${index}`,
        maxDurationMs: 60_000,
        dispatch: { runId: id },
      };
    };
    const statuses = ["completed", "failed"] as const;
    const triggers = ["chat", "email", "cron"] as const;
    const rows = Array.from({ length: 9 }, (_, index) =>
      row(index, triggers[index % 3] ?? "chat", statuses[index % 2] ?? "completed"),
    );
    // Three share one instant exactly; three more lie within one millisecond, a microsecond apart.
    await server.deps.db
      .insert(boxRun)
      .values(rows.slice(0, 3).map((r) => ({ ...r, createdAt: new Date("2026-01-01T00:00:00.000Z") })));
    for (const [offset, r] of rows.slice(3, 6).entries()) {
      await server.deps.db
        .insert(boxRun)
        .values({ ...r, createdAt: sql`${`2026-01-02T00:00:00.000${offset + 1}05Z`}::timestamptz` });
    }
    await server.deps.db.insert(boxRun).values(rows.slice(6));
    return { ledgerId: ledger.id, ids: rows.map((r) => r.id) };
  }

  it(
    "pages newest first with an opaque cursor, never repeating or skipping, and filters",
    async () => {
      const { ledgerId, ids } = await boxWithRuns();
      const base = `/rpc/box/${ledgerId}/runs`;
      const everything = await client.get(`${base}?limit=200`);
      expect(everything.status, JSON.stringify(everything.body)).toBe(200);
      const all = everything.body.runs as {
        id: string;
        createdAt: string;
        status: string;
        trigger: string;
      }[];
      expect(all.map((run) => run.id).sort()).toEqual([...ids].sort());
      const created = all.map((run) => Date.parse(run.createdAt));
      expect(created).toEqual([...created].sort((a, b) => b - a));
      expect(everything.body.nextCursor).toBeNull();

      for (const limit of [1, 2, 4]) {
        const paged: string[] = [];
        let cursor: string | null = null;
        do {
          const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
          const page = await client.get(`${base}?limit=${limit}${query}`);
          expect(page.status, JSON.stringify(page.body)).toBe(200);
          const runs = page.body.runs as { id: string }[];
          expect(runs.length).toBeLessThanOrEqual(limit);
          paged.push(...runs.map((run) => run.id));
          cursor = page.body.nextCursor as string | null;
        } while (cursor);
        expect(paged, `pages of ${limit}`).toEqual(all.map((run) => run.id));
      }

      const failed = await client.get(`${base}?status=failed`);
      expect((failed.body.runs as { status: string }[]).map((run) => run.status)).toEqual(
        all.filter((run) => run.status === "failed").map(() => "failed"),
      );
      const emailFailed = await client.get(`${base}?trigger=email&status=failed&limit=1`);
      const expected = all.filter((run) => run.trigger === "email" && run.status === "failed");
      expect((emailFailed.body.runs as { id: string }[]).map((run) => run.id)).toEqual(
        expected.slice(0, 1).map((run) => run.id),
      );
      expect(emailFailed.body.nextCursor === null).toBe(expected.length <= 1);
      const api = await client.get(`${base}?trigger=api`);
      expect(api.body).toEqual({ runs: [], nextCursor: null });

      const bad = await client.get(`${base}?cursor=not-a-cursor`);
      expect(bad.status, JSON.stringify(bad.body)).toBe(400);
      expect(String(bad.body.message)).toMatch(/cursor/);
      const unknownStatus = await client.get(`${base}?status=sleeping`);
      expect(unknownStatus.status, JSON.stringify(unknownStatus.body)).toBe(400);
    },
    RUN_TEST_TIMEOUT_MS,
  );
});

describe("runs: retry", () => {
  it(
    "starts an interrupted run again with the same input, linked to it, once",
    async () => {
      // An interrupted run as the reconciler leaves one (box-agent restarted mid-run): its dispatch
      // is the one the platform recorded for a real run.
      const [model] = await server.deps.db.select().from(boxRun).where(eq(boxRun.boxId, boxId)).limit(1);
      if (!model) {
        throw new Error("no run to copy a dispatch from");
      }
      const interruptedId = newId("run");
      const contextId = "retry-context";
      await server.deps.db.insert(boxRun).values({
        ...model,
        id: interruptedId,
        contextId,
        status: "interrupted",
        prompt: "say the retry words",
        result: null,
        error: "box-agent restarted while the run was in flight",
        dispatch: {
          ...model.dispatch,
          runId: interruptedId,
          contextId,
          task: { kind: "message", message: "say the retry words" },
        },
        createdAt: new Date(),
        completedAt: new Date(),
        lastEventSeq: 0,
      });

      const res = await client.post(`${runPath(interruptedId)}/retry`);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const retryId = String(res.body.runId);
      expect(retryId).not.toBe(interruptedId);
      const retried = await waitForEnd(retryId);
      expect(retried).toMatchObject({
        status: "completed",
        retryOf: interruptedId,
        trigger: "chat",
        contextId,
        result: "You said: say the retry words",
      });

      const twice = await client.post(`${runPath(interruptedId)}/retry`);
      expect(twice.status, JSON.stringify(twice.body)).toBe(409);
      expect(String(twice.body.message)).toContain(retryId);

      const completed = await client.post(`${runPath(retryId)}/retry`);
      expect(completed.status, JSON.stringify(completed.body)).toBe(409);
      expect(String(completed.body.message)).toMatch(/completed/);
    },
    RUN_TEST_TIMEOUT_MS,
  );
});

describe("runs: a stream never hangs and never repeats, whatever the bus does", () => {
  /** A running run of the owner's (on a box of rows only), as the follower leaves one. */
  async function runningRun() {
    const [ledger] = await server.deps.db
      .insert(box)
      .values({ id: newId("box"), userId, name: "Streams", subdomain: generateSubdomain("streams") })
      .returning();
    if (!ledger) {
      throw new Error("inserting the box returned no row");
    }
    const runId = newId("run");
    await server.deps.db.insert(boxRun).values({
      id: runId,
      boxId: ledger.id,
      userId,
      trigger: "api",
      contextType: "session",
      contextId: "edge",
      status: "running",
      prompt: "edge cases",
      maxDurationMs: 60_000,
      dispatch: { runId },
      dispatchedAt: new Date(),
      startedAt: new Date(),
    });
    return { boxId: ledger.id, runId, path: `/rpc/box/${ledger.id}/runs/${runId}/stream` };
  }

  const text = (seq: number, words: string): RunEvent => ({
    seq,
    at: new Date().toISOString(),
    type: "text",
    text: words,
  });

  /** What the follower does with an event, less (when told) the publish. */
  async function store(runId: string, event: RunEvent, { publish = true } = {}) {
    await server.deps.db.insert(boxRunEvent).values({
      runId,
      seq: event.seq,
      type: event.type,
      data: event as unknown as Record<string, unknown>,
      at: new Date(event.at),
    });
    await server.deps.db.update(boxRun).set({ lastEventSeq: event.seq }).where(eq(boxRun.id, runId));
    if (publish) {
      await server.deps.runEvents.publish(runId, event);
    }
  }

  const texts = (reader: SseReader) => reader.events().map((event) => `${event.seq}:${String(event.text)}`);

  it(
    "fills a gap left by a lost publish from Postgres, and drops repeats",
    async () => {
      const run = await runningRun();
      await store(run.runId, text(1, "one"));
      const reader = await new SseReader().open(run.path);
      await waitFor(
        async () => texts(reader),
        (seen) => seen.length === 1,
        { what: "the stored event" },
      );

      await store(run.runId, text(2, "two"), { publish: false });
      await store(run.runId, text(3, "three"));
      await waitFor(
        async () => texts(reader),
        (seen) => seen.length === 3,
        { what: "the gap to be filled" },
      );
      await server.deps.runEvents.publish(run.runId, text(2, "two"));
      await server.deps.runEvents.publish(run.runId, text(3, "three"));

      const done: RunEvent = {
        seq: 4,
        at: new Date().toISOString(),
        type: "done",
        run: {
          status: "completed",
          sessionId: null,
          result: "all told",
          error: null,
          durationMs: 42,
          costUsd: 0.01,
          inputTokens: 1,
          outputTokens: 2,
          cacheReadTokens: null,
          cacheWriteTokens: null,
        },
      };
      await store(run.runId, done, { publish: false });
      await completeRun({ deps: server.deps, runId: run.runId, end: done.run, doneEvent: done });
      await reader.finished();
      expect(texts(reader)).toEqual(["1:one", "2:two", "3:three"]);
      expect(reader.done()?.data).toMatchObject({ id: run.runId, status: "completed", result: "all told" });
      expect(reader.done()?.id).toBe("4");
    },
    RUN_TEST_TIMEOUT_MS,
  );

  it(
    "goes on past a gap that neither the bus nor Postgres will ever fill",
    async () => {
      const run = await runningRun();
      const reader = await new SseReader().open(run.path);
      await store(run.runId, text(1, "one"));
      await waitFor(
        async () => texts(reader),
        (seen) => seen.length === 1,
        { what: "the first event" },
      );
      // Event 3 is live only (its store is late), and event 2 never comes at all.
      await server.deps.runEvents.publish(run.runId, text(3, "three"));
      await waitFor(
        async () => texts(reader),
        (seen) => seen.length === 2,
        {
          timeout: 60_000,
          what: "the stream to give up on event 2",
        },
      );
      expect(texts(reader)).toEqual(["1:one", "3:three"]);
      await completeRun({ deps: server.deps, runId: run.runId, end: { status: "failed", error: "gave up" } });
      await reader.finished();
      expect(reader.done()?.data).toMatchObject({ status: "failed", error: "gave up" });
    },
    RUN_TEST_TIMEOUT_MS,
  );

  it(
    "ends when the run ends even if nothing is ever published (the poll of Postgres)",
    async () => {
      const run = await runningRun();
      const reader = await new SseReader().open(run.path);
      await store(run.runId, text(1, "quiet"), { publish: false });
      await server.deps.db
        .update(boxRun)
        .set({
          status: "interrupted",
          error: "no final event by the run's deadline",
          completedAt: new Date(),
        })
        .where(eq(boxRun.id, run.runId));
      await reader.finished();
      expect(texts(reader)).toEqual(["1:quiet"]);
      expect(reader.done()?.data).toMatchObject({
        status: "interrupted",
        error: "no final event by the run's deadline",
      });
    },
    RUN_TEST_TIMEOUT_MS,
  );

  it(
    "lets go of its Redis subscription when the subscriber leaves",
    async () => {
      const run = await runningRun();
      const redis = createRedis(server.config.REDIS_URL, "producer");
      const channel = `${server.queuePrefix}:run:${run.runId}`;
      const listeners = async () => Number(((await redis.pubsub("NUMSUB", channel)) as [string, number])[1]);
      try {
        const reader = await new SseReader().open(run.path);
        await waitFor(listeners, (count) => count === 1, { what: "the stream to subscribe" });
        await reader.close();
        await waitFor(listeners, (count) => count === 0, { what: "the stream to unsubscribe" });
      } finally {
        redis.disconnect();
      }
    },
    RUN_TEST_TIMEOUT_MS,
  );
});
