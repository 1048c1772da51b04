import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCreateInput } from "@vps-claude/contract/box-agent";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunFinish } from "./run-store";
import { SessionStore } from "./session-store";

let dir: string;
let store: SessionStore;
let clock: number;

function openStore(): SessionStore {
  return SessionStore.open(join(dir, "sessions.db"), { now: () => new Date(clock) });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "box-agent-runs-"));
  clock = Date.parse("2026-01-01T00:00:00Z");
  store = openStore();
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const request = (runId: string, contextId = "c") =>
  runCreateInput.parse({
    runId,
    trigger: "cron",
    contextType: "cron",
    contextId,
    session: "fresh",
    task: { kind: "cron", cronjobId: "cron_1", prompt: "tick", scheduledFor: "2026-01-01T09:00:00Z" },
    agent: { model: "claude-test", systemPrompt: "sys", mcpServers: {} },
    limits: { maxDurationMs: 60_000 },
  });

const cancelled: RunFinish = {
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
};

describe("RunStore", () => {
  it("stores a dispatched run queued, with its request and a first event", () => {
    const first = store.runs.create(request("run_1"), "Scheduled task cron_1 …");
    expect(first).toEqual({
      seq: 1,
      at: "2026-01-01T00:00:00.000Z",
      type: "status",
      status: "queued",
      sessionId: null,
    });
    expect(store.runs.get("run_1")).toMatchObject({
      status: "queued",
      trigger: "cron",
      queuedAt: "2026-01-01T00:00:00.000Z",
      startedAt: null,
    });
    expect(store.runs.request("run_1")).toEqual(request("run_1"));
  });

  it("numbers events per run and replays those after a seq", () => {
    store.runs.create(request("run_a"), "a");
    store.runs.create(request("run_b"), "b");
    clock += 1000;
    expect(store.runs.start("run_a", { sessionId: null })).toMatchObject({ seq: 2, status: "running" });
    expect(store.runs.start("run_a", { sessionId: null }), "only a queued run starts").toBeUndefined();
    store.runs.append("run_a", { type: "text", text: "hello" });
    store.runs.append("run_a", {
      type: "tool_use",
      toolUseId: "toolu_1",
      name: "Bash",
      input: { command: "ls" },
    });
    expect(store.runs.append("run_b", { type: "text", text: "other" }).seq).toBe(2);

    expect(store.runs.events("run_a").map((e) => [e.seq, e.type])).toEqual([
      [1, "status"],
      [2, "status"],
      [3, "text"],
      [4, "tool_use"],
    ]);
    expect(store.runs.events("run_a", 2)).toEqual([
      { seq: 3, at: "2026-01-01T00:00:01.000Z", type: "text", text: "hello" },
      {
        seq: 4,
        at: "2026-01-01T00:00:01.000Z",
        type: "tool_use",
        toolUseId: "toolu_1",
        name: "Bash",
        input: { command: "ls" },
      },
    ]);
    expect(store.runs.lastSeq("run_a")).toBe(4);
  });

  it("ends a run once, with its done event, and only from the statuses it is told", () => {
    store.runs.create(request("run_1"), "x");
    expect(store.runs.finish("run_1", cancelled, ["running"]), "not running").toBeUndefined();
    const done = store.runs.finish("run_1", cancelled, ["queued"]);
    expect(done).toMatchObject({
      seq: 2,
      type: "done",
      run: { status: "cancelled", error: "cancelled before it started", durationMs: 0 },
    });
    expect(store.runs.finish("run_1", { ...cancelled, status: "failed" }, ["queued"])).toBeUndefined();
    expect(store.runs.get("run_1")?.status).toBe("cancelled");
    expect(store.runs.events("run_1").filter((e) => e.type === "done")).toHaveLength(1);
  });

  it("lists runs of a status in the order they were accepted, across a reopen", () => {
    for (const id of ["run_3", "run_1", "run_2"]) {
      store.runs.create(request(id, id), id);
    }
    store.runs.start("run_1", { sessionId: null });
    store.close();
    store = openStore();
    expect(store.runs.listByStatus("queued").map((run) => run.id)).toEqual(["run_3", "run_2"]);
    expect(store.runs.listByStatus("running").map((run) => run.id)).toEqual(["run_1"]);
  });
});
