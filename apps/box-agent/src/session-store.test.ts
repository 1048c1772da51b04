import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunCreate, runCreateInput } from "@vps-claude/contract/box-agent";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MIGRATIONS, PROMPT_EXCERPT_CHARS, RESULT_EXCERPT_CHARS, SessionStore } from "./session-store";

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

function dispatch(runId: string, contextType: "session" | "cron" | "email", contextId: string): RunCreate {
  return runCreateInput.parse({
    runId,
    trigger: contextType === "session" ? "chat" : contextType,
    contextType,
    contextId,
    task: { kind: "message", message: `prompt of ${runId}` },
    agent: { model: "claude-test", systemPrompt: "You are a test." },
    limits: {},
  });
}

const completed = {
  status: "completed" as const,
  result: "done",
  error: null,
  durationMs: 1200,
  costUsd: 0.01,
  inputTokens: 100,
  outputTokens: 20,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
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

  it("lists contexts most recently active first, with their latest runs as excerpts", () => {
    store.saveSession("session", "a", "s-a");
    store.runs.create(dispatch("a_1", "session", "a"), "one");
    store.runs.start("a_1", { sessionId: "s-a" });
    store.runs.finish(
      "a_1",
      { ...completed, sessionId: "s-a", result: "r".repeat(RESULT_EXCERPT_CHARS * 2) },
      ["running"],
    );
    clock += 1000;
    store.runs.create(dispatch("a_2", "session", "a"), "p".repeat(PROMPT_EXCERPT_CHARS + 50));
    clock += 1000;
    store.runs.create(dispatch("b_1", "cron", "b"), "tick");
    store.runs.start("b_1", { sessionId: null });
    store.runs.finish(
      "b_1",
      { ...completed, status: "failed", sessionId: null, result: null, error: "boom" },
      ["running"],
    );

    const contexts = store.listContexts({ runsPerContext: 5 });
    expect(contexts.map((c) => [c.contextType, c.contextId, c.sessionId])).toEqual([
      ["cron", "b", null],
      ["session", "a", "s-a"],
    ]);
    const [queued, done] = contexts[1]?.runs ?? [];
    expect(contexts[1]?.runs.map((r) => r.id)).toEqual(["a_2", "a_1"]);
    // A queued run has not started: it is listed with the time it was queued.
    expect(queued).toMatchObject({ status: "queued", trigger: "chat", startedAt: queued?.queuedAt });
    expect(queued?.prompt).toHaveLength(PROMPT_EXCERPT_CHARS);
    expect(done?.result).toHaveLength(RESULT_EXCERPT_CHARS);
    expect(contexts[0]?.runs[0]).toMatchObject({ status: "failed", error: "boom", trigger: "cron" });

    expect(store.listContexts({ runsPerContext: 1 })[1]?.runs).toHaveLength(1);
    expect(store.listContexts({ limit: 1 })).toHaveLength(1);
  });

  it("upgrades a database of the first schema, keeping its runs and sessions", () => {
    store.close();
    rmSync(join(dir, ".box-agent"), { recursive: true, force: true });
    mkdirSync(join(dir, ".box-agent"));
    const path = join(dir, ".box-agent", "sessions.db");
    const raw = new Database(path);
    raw.exec(MIGRATIONS[0] ?? "");
    raw.pragma("user_version = 1");
    raw
      .prepare(
        `INSERT INTO runs (id, context_type, context_id, session_id, status, prompt, result, started_at,
           completed_at, duration_ms, cost_usd, input_tokens, output_tokens, error, note)
         VALUES ('old-1', 'email', 't', 's-1', 'completed', 'hi', 'ok', '2025-12-01T00:00:00.000Z',
           '2025-12-01T00:00:01.000Z', 1000, 0.5, 10, 2, NULL, NULL)`,
      )
      .run();
    raw
      .prepare(
        `INSERT INTO sessions (context_type, context_id, session_id, created_at, updated_at)
         VALUES ('email', 't', 's-1', '2025-12-01T00:00:00.000Z', '2025-12-01T00:00:01.000Z')`,
      )
      .run();
    raw.close();

    store = openStore();
    expect(store.runs.get("old-1")).toMatchObject({
      trigger: "email",
      status: "completed",
      queuedAt: "2025-12-01T00:00:00.000Z",
      startedAt: "2025-12-01T00:00:00.000Z",
      costUsd: 0.5,
      cacheReadTokens: null,
    });
    expect(store.runs.events("old-1")).toEqual([]);
    expect(store.getSession("email", "t")?.sessionId).toBe("s-1");
    // The new statuses are allowed now.
    store.runs.create(dispatch("new_1", "email", "t"), "email x");
    expect(store.runs.get("new_1")?.status).toBe("queued");
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
