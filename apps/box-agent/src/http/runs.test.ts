import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCreateInput } from "@vps-claude/contract/box-agent";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RunEventHub } from "../agent/run-events";
import { type RunEventPayload, toAgentRun } from "../run-store";
import { SessionStore } from "../session-store";
import { runRoutes } from "./runs";

/**
 * The event stream's own mechanics, without Claude: events written to a real store and announced on
 * a real hub, as the runner does, read through the route. (The runner itself is tested end to end
 * with the real CLI in test/runs.test.ts.)
 */

let dir: string;
let store: SessionStore;
let hub: RunEventHub;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "box-agent-sse-"));
  store = SessionStore.open(join(dir, "sessions.db"));
  hub = new RunEventHub();
  store.runs.create(
    runCreateInput.parse({
      runId: "run_1",
      trigger: "api",
      contextType: "session",
      contextId: "c",
      task: { kind: "message", message: "hi" },
      agent: { model: "m", systemPrompt: "" },
      limits: {},
    }),
    "hi",
  );
});

afterEach(() => {
  hub.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function emit(payload: RunEventPayload): void {
  hub.publish("run_1", store.runs.append("run_1", payload));
}

function app(keepAliveMs?: number) {
  return runRoutes({
    runner: {
      events: hub,
      get: (id) => {
        const run = store.runs.get(id);
        return run === undefined ? undefined : toAgentRun(run, store.runs.lastSeq(id));
      },
      accept: () => {
        throw new Error("not used here");
      },
      cancel: () => {
        throw new Error("not used here");
      },
    },
    runs: store.runs,
    ...(keepAliveMs === undefined ? {} : { keepAliveMs }),
  });
}

/** Reads the stream frame by frame; `frames` fills as they arrive. */
async function open(lastEventId?: string, keepAliveMs?: number) {
  const res = await app(keepAliveMs).request("/runs/run_1/events", {
    headers: lastEventId === undefined ? {} : { "last-event-id": lastEventId },
  });
  expect(res.status).toBe(200);
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const frames: string[] = [];
  const closed = (async () => {
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return frames;
      }
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        frames.push(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  })();
  return { frames, closed, reader };
}

const seqs = (frames: string[]) =>
  frames.filter((frame) => !frame.startsWith(":")).map((frame) => Number(/^id: (\d+)$/m.exec(frame)?.[1]));

describe("GET /runs/{id}/events", () => {
  it("replays the stored events, then live ones, with no gap and no repeat, and ends after done", async () => {
    emit({ type: "status", status: "running", sessionId: null });
    const stream = await open();
    // Announced while the stored ones are still being written out.
    emit({ type: "text", text: "live one" });
    await vi.waitFor(() => expect(seqs(stream.frames)).toEqual([1, 2, 3]));
    emit({ type: "text", text: "live\ntwo" });
    const done = store.runs.finish(
      "run_1",
      {
        status: "completed",
        sessionId: "s",
        result: "ok",
        error: null,
        durationMs: 5,
        costUsd: 0,
        inputTokens: 1,
        outputTokens: 1,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        note: null,
      },
      ["queued"],
    );
    if (done !== undefined) {
      hub.publish("run_1", done);
    }
    const frames = await stream.closed;
    expect(seqs(frames)).toEqual([1, 2, 3, 4, 5]);
    const [fourth] = store.runs.events("run_1", 3);
    // One line of JSON per event: a newline in a text stays escaped inside it.
    expect(frames[3]).toBe(`event: text\ndata: ${JSON.stringify(fourth)}\nid: 4`);
    expect(JSON.parse(frames[3]?.split("\n")[1]?.slice(6) ?? "")).toMatchObject({ text: "live\ntwo" });
    expect(hub.listenerCount("run_1"), "the finished stream stopped listening").toBe(0);
  });

  it("starts after Last-Event-ID and closes at once when the caller already has done", async () => {
    emit({ type: "text", text: "a" });
    store.runs.finish(
      "run_1",
      {
        status: "cancelled",
        sessionId: null,
        result: null,
        error: "cancelled before it started",
        durationMs: 0,
        costUsd: null,
        inputTokens: null,
        outputTokens: null,
        cacheReadTokens: null,
        cacheWriteTokens: null,
        note: null,
      },
      ["queued"],
    );
    expect(seqs(await (await open("1")).closed)).toEqual([2, 3]);
    expect(await (await open("3")).closed).toEqual([]);
  });

  it("sends keep-alive comments while idle and stops listening when the caller goes away", async () => {
    const stream = await open(undefined, 20);
    await vi.waitFor(() => expect(stream.frames).toContain(": keep-alive"));
    expect(hub.listenerCount("run_1")).toBe(1);
    await stream.reader.cancel();
    await vi.waitFor(() => expect(hub.listenerCount("run_1")).toBe(0));
  });

  it("ends the streams of runs still queued when the daemon stops", async () => {
    const stream = await open();
    await vi.waitFor(() => expect(seqs(stream.frames)).toEqual([1]));
    hub.close();
    expect(seqs(await stream.closed)).toEqual([1]);
  });
});
