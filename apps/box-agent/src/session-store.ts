import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { ContextType, recordedRunSchema } from "@vps-claude/contract/box-agent";
import type BetterSqlite3 from "better-sqlite3";
import type { z } from "zod";
import { loadBetterSqlite3 } from "./externals";
import { excerpt, RESULT_EXCERPT_CHARS, RunStore, type StoredRun } from "./run-store";

export { CONTEXT_TYPES, type ContextType } from "@vps-claude/contract/box-agent";
export { PROMPT_EXCERPT_CHARS, RESULT_EXCERPT_CHARS } from "./run-store";

export interface SessionRecord {
  contextType: ContextType;
  contextId: string;
  sessionId: string;
  createdAt: string;
  updatedAt: string;
  /**
   * The session's running cost total as the SDK last reported it. Claude Code carries a resumed
   * session's total over into the next run's result, so a run's own cost is the difference.
   */
  cumulativeCostUsd: number;
}

export type ContextRun = z.output<typeof recordedRunSchema>;

export interface ContextSummary {
  contextType: ContextType;
  contextId: string;
  /** Null when no run of this context ever got a session confirmed. */
  sessionId: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  runs: ContextRun[];
}

interface SessionRow {
  context_type: ContextType;
  context_id: string;
  session_id: string;
  created_at: string;
  updated_at: string;
  cumulative_cost_usd: number;
}

/** Each entry upgrades the schema by one `user_version`; entries are never edited once shipped. */
export const MIGRATIONS = [
  `
  CREATE TABLE sessions (
    context_type TEXT NOT NULL,
    context_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    cumulative_cost_usd REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (context_type, context_id)
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    context_type TEXT NOT NULL,
    context_id TEXT NOT NULL,
    session_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    prompt TEXT NOT NULL,
    result TEXT,
    started_at TEXT NOT NULL,
    completed_at TEXT,
    duration_ms INTEGER,
    cost_usd REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    error TEXT,
    note TEXT
  );
  CREATE INDEX runs_context_started ON runs (context_type, context_id, started_at DESC);
  CREATE INDEX runs_status ON runs (status);
  `,
  // Runs become a durable queue (POST /runs): new statuses, the dispatch to run after a restart, and
  // a transcript per run. SQLite cannot alter a CHECK, so the table is rebuilt and its rows copied.
  `
  CREATE TABLE runs_v2 (
    id TEXT PRIMARY KEY,
    trigger TEXT NOT NULL CHECK (trigger IN ('chat', 'email', 'cron', 'api')),
    context_type TEXT NOT NULL,
    context_id TEXT NOT NULL,
    session_id TEXT,
    status TEXT NOT NULL
      CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
    request TEXT,
    prompt TEXT NOT NULL,
    result TEXT,
    error TEXT,
    note TEXT,
    queued_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    duration_ms INTEGER,
    cost_usd REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cache_read_tokens INTEGER,
    cache_write_tokens INTEGER,
    claude_pid INTEGER
  );
  INSERT INTO runs_v2 (id, trigger, context_type, context_id, session_id, status, prompt, result, error,
    note, queued_at, started_at, completed_at, duration_ms, cost_usd, input_tokens, output_tokens)
  SELECT id, CASE context_type WHEN 'email' THEN 'email' WHEN 'cron' THEN 'cron' ELSE 'chat' END,
    context_type, context_id, session_id, status, prompt, result, error, note, started_at, started_at,
    completed_at, duration_ms, cost_usd, input_tokens, output_tokens
  FROM runs ORDER BY rowid;
  DROP TABLE runs;
  ALTER TABLE runs_v2 RENAME TO runs;
  CREATE INDEX runs_context_queued ON runs (context_type, context_id, queued_at DESC);
  CREATE INDEX runs_status_queued ON runs (status, queued_at);
  CREATE TABLE run_events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  `,
];

function toSession(row: SessionRow): SessionRecord {
  return {
    contextType: row.context_type,
    contextId: row.context_id,
    sessionId: row.session_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    cumulativeCostUsd: row.cumulative_cost_usd,
  };
}

function toContextRun(run: StoredRun): ContextRun {
  return {
    id: run.id,
    trigger: run.trigger,
    contextType: run.contextType,
    contextId: run.contextId,
    sessionId: run.sessionId,
    status: run.status,
    prompt: run.prompt,
    result: run.result === null ? null : excerpt(run.result, RESULT_EXCERPT_CHARS),
    queuedAt: run.queuedAt,
    startedAt: run.startedAt ?? run.queuedAt,
    completedAt: run.completedAt,
    durationMs: run.durationMs,
    costUsd: run.costUsd,
    inputTokens: run.inputTokens,
    outputTokens: run.outputTokens,
    error: run.error,
    note: run.note,
  };
}

/**
 * The box's SQLite: which Claude session continues which thread (context), and, in {@link runs},
 * the runs and their transcripts. One box has one daemon, so a single synchronous connection is
 * enough; WAL keeps readers (a listing while a run finishes) from blocking on writers.
 */
export class SessionStore {
  private readonly db: BetterSqlite3.Database;
  private readonly now: () => Date;
  readonly runs: RunStore;

  private constructor(db: BetterSqlite3.Database, now: () => Date) {
    this.db = db;
    this.now = now;
    this.runs = new RunStore(db, now);
  }

  static open(path: string, options: { now?: () => Date } = {}): SessionStore {
    if (path !== ":memory:") {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    }
    const Database = loadBetterSqlite3();
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    const store = new SessionStore(db, options.now ?? (() => new Date()));
    store.migrate();
    return store;
  }

  private migrate(): void {
    const current = this.db.pragma("user_version", { simple: true }) as number;
    for (let version = current; version < MIGRATIONS.length; version++) {
      const sql = MIGRATIONS[version];
      if (sql === undefined) {
        break;
      }
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.pragma(`user_version = ${version + 1}`);
      })();
    }
  }

  private timestamp(): string {
    return this.now().toISOString();
  }

  getSession(contextType: ContextType, contextId: string): SessionRecord | undefined {
    const row = this.db
      .prepare<[string, string], SessionRow>(
        "SELECT * FROM sessions WHERE context_type = ? AND context_id = ?",
      )
      .get(contextType, contextId);
    return row === undefined ? undefined : toSession(row);
  }

  saveSession(contextType: ContextType, contextId: string, sessionId: string): SessionRecord {
    const at = this.timestamp();
    this.db
      .prepare(
        `INSERT INTO sessions (context_type, context_id, session_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (context_type, context_id) DO UPDATE SET
           session_id = excluded.session_id,
           created_at = CASE WHEN sessions.session_id = excluded.session_id THEN sessions.created_at ELSE excluded.created_at END,
           cumulative_cost_usd = CASE WHEN sessions.session_id = excluded.session_id THEN sessions.cumulative_cost_usd ELSE 0 END,
           updated_at = excluded.updated_at`,
      )
      .run(contextType, contextId, sessionId, at, at);
    const saved = this.getSession(contextType, contextId);
    if (saved === undefined) {
      throw new Error(`session for ${contextType}/${contextId} vanished right after it was saved`);
    }
    return saved;
  }

  setSessionCost(
    contextType: ContextType,
    contextId: string,
    sessionId: string,
    cumulativeCostUsd: number,
  ): void {
    this.db
      .prepare(
        `UPDATE sessions SET cumulative_cost_usd = ?, updated_at = ?
         WHERE context_type = ? AND context_id = ? AND session_id = ?`,
      )
      .run(cumulativeCostUsd, this.timestamp(), contextType, contextId, sessionId);
  }

  deleteSession(contextType: ContextType, contextId: string): void {
    this.db
      .prepare("DELETE FROM sessions WHERE context_type = ? AND context_id = ?")
      .run(contextType, contextId);
  }

  /** Every context that has a session or a run, most recently active first, each with its latest runs. */
  listContexts(options: { limit?: number; runsPerContext?: number } = {}): ContextSummary[] {
    const rows = this.db
      .prepare<
        [number],
        {
          context_type: ContextType;
          context_id: string;
          session_id: string | null;
          created_at: string | null;
          updated_at: string | null;
        }
      >(
        `WITH contexts AS (
           SELECT context_type, context_id, updated_at AS active_at FROM sessions
           UNION ALL
           SELECT context_type, context_id, MAX(COALESCE(started_at, queued_at)) AS active_at FROM runs
           GROUP BY context_type, context_id
         ),
         latest AS (
           SELECT context_type, context_id, MAX(active_at) AS active_at FROM contexts GROUP BY context_type, context_id
         )
         SELECT latest.context_type, latest.context_id, s.session_id, s.created_at, s.updated_at
         FROM latest
         LEFT JOIN sessions s ON s.context_type = latest.context_type AND s.context_id = latest.context_id
         ORDER BY latest.active_at DESC
         LIMIT ?`,
      )
      .all(options.limit ?? 100);
    return rows.map((row) => ({
      contextType: row.context_type,
      contextId: row.context_id,
      sessionId: row.session_id,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      runs: this.runs
        .listForContext(row.context_type, row.context_id, options.runsPerContext ?? 5)
        .map(toContextRun),
    }));
  }

  close(): void {
    if (this.db.open) {
      this.db.close();
    }
  }
}
