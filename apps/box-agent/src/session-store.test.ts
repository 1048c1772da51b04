import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROMPT_EXCERPT_CHARS, RESULT_EXCERPT_CHARS, SessionStore } from "./session-store";

let dir: string;
let store: SessionStore;
let clock: number;

function openStore(): SessionStore {
  return SessionStore.open(join(dir, ".box-agent", "sessions.db"), { now: () => new Date(clock) });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "box-agent-store-"));
  clock = Date.parse("2026-01-01T00:00:00Z");
  store = openStore();
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const finished = {
  status: "completed" as const,
  result: "done",
  durationMs: 1200,
  costUsd: 0.01,
  inputTokens: 100,
  outputTokens: 20,
  error: null,
  note: null,
};

describe("SessionStore", () => {
  it("keeps one session per (contextType, contextId) and updates it in place", () => {
    expect(store.getSession("email", "thread-1")).toBeUndefined();
    const first = store.saveSession("email", "thread-1", "s-1");
    expect(first).toMatchObject({ contextType: "email", contextId: "thread-1", sessionId: "s-1" });

    clock += 60_000;
    const again = store.saveSession("email", "thread-1", "s-1");
    expect(again.createdAt).toBe(first.createdAt);
    expect(again.updatedAt).not.toBe(first.updatedAt);

    store.saveSession("cron", "thread-1", "s-2");
    expect(store.getSession("email", "thread-1")?.sessionId).toBe("s-1");
    expect(store.getSession("cron", "thread-1")?.sessionId).toBe("s-2");
  });

  it("resets the creation time and the cost total when a context gets a new session", () => {
    store.saveSession("session", "c", "s-old");
    store.setSessionCost("session", "c", "s-old", 0.5);
    expect(store.getSession("session", "c")?.cumulativeCostUsd).toBe(0.5);

    clock += 1000;
    const replaced = store.saveSession("session", "c", "s-new");
    expect(replaced.cumulativeCostUsd).toBe(0);
    expect(replaced.createdAt).toBe(new Date(clock).toISOString());

    store.deleteSession("session", "c");
    expect(store.getSession("session", "c")).toBeUndefined();
  });

  it("records a run from start to finish, storing excerpts of long texts", () => {
    const prompt = "p".repeat(PROMPT_EXCERPT_CHARS + 50);
    const started = store.startRun({
      id: "run-1",
      contextType: "session",
      contextId: "c",
      sessionId: null,
      prompt,
    });
    expect(started).toMatchObject({ status: "running", sessionId: null, completedAt: null });
    expect(started.prompt).toHaveLength(PROMPT_EXCERPT_CHARS);

    store.setRunSession("run-1", "s-1");
    clock += 1200;
    const done = store.finishRun("run-1", {
      ...finished,
      sessionId: "s-1",
      result: "r".repeat(RESULT_EXCERPT_CHARS * 2),
    });
    expect(done).toMatchObject({
      status: "completed",
      sessionId: "s-1",
      durationMs: 1200,
      costUsd: 0.01,
      inputTokens: 100,
      outputTokens: 20,
      error: null,
      completedAt: new Date(clock).toISOString(),
    });
    expect(done.result).toHaveLength(RESULT_EXCERPT_CHARS);
  });

  it("lists contexts most recently active first, with their latest runs, including ones without a session", () => {
    store.saveSession("session", "a", "s-a");
    store.startRun({ id: "a-1", contextType: "session", contextId: "a", sessionId: "s-a", prompt: "one" });
    store.finishRun("a-1", { ...finished, sessionId: "s-a" });
    clock += 1000;
    store.startRun({ id: "a-2", contextType: "session", contextId: "a", sessionId: "s-a", prompt: "two" });
    clock += 1000;
    store.startRun({ id: "b-1", contextType: "cron", contextId: "b", sessionId: null, prompt: "tick" });
    store.finishRun("b-1", { ...finished, status: "failed", sessionId: null, result: null, error: "boom" });

    const contexts = store.listContexts({ runsPerContext: 5 });
    expect(contexts.map((c) => [c.contextType, c.contextId, c.sessionId])).toEqual([
      ["cron", "b", null],
      ["session", "a", "s-a"],
    ]);
    expect(contexts[1]?.runs.map((r) => r.id)).toEqual(["a-2", "a-1"]);
    expect(contexts[0]?.runs[0]).toMatchObject({ status: "failed", error: "boom" });

    expect(store.listContexts({ runsPerContext: 1 })[1]?.runs).toHaveLength(1);
    expect(store.listContexts({ limit: 1 })).toHaveLength(1);
  });

  it("marks runs left running by a previous process as failed when reopened", () => {
    store.startRun({ id: "cut", contextType: "session", contextId: "c", sessionId: null, prompt: "x" });
    store.startRun({ id: "ok", contextType: "session", contextId: "c", sessionId: null, prompt: "y" });
    store.finishRun("ok", { ...finished, sessionId: null });
    store.close();

    store = openStore();
    expect(store.failInterruptedRuns()).toBe(1);
    expect(store.getRun("cut")).toMatchObject({ status: "failed", error: "interrupted by restart" });
    expect(store.getRun("ok")?.status).toBe("completed");
    expect(store.failInterruptedRuns()).toBe(0);
  });

  it("uses WAL journaling and survives reopening with its schema intact", () => {
    store.saveSession("session", "c", "s-1");
    const raw = new Database(join(dir, ".box-agent", "sessions.db"), { readonly: true });
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();
    store.close();
    store = openStore();
    expect(store.getSession("session", "c")?.sessionId).toBe("s-1");
  });
});
