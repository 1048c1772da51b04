import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { ContextType } from "@vps-claude/contract/box-agent";
import type BetterSqlite3 from "better-sqlite3";
import { loadBetterSqlite3 } from "./externals";

export { CONTEXT_TYPES, type ContextType } from "@vps-claude/contract/box-agent";

export type RunStatus = "running" | "completed" | "failed";

/** Stored prompt and result text are excerpts: the transcript in Claude's config dir is the full record. */
export const PROMPT_EXCERPT_CHARS = 1000;
export const RESULT_EXCERPT_CHARS = 4000;

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

export interface RunRecord {
  id: string;
  contextType: ContextType;
  contextId: string;
  /** Null until Claude confirmed a session (a run can fail before that). */
  sessionId: string | null;
  status: RunStatus;
  prompt: string;
  result: string | null;
  startedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  error: string | null;
  /** Something the run's reader should know that is not an error, e.g. that a new session replaced a lost one. */
  note: string | null;
}

export interface RunFinish {
  status: "completed" | "failed";
  sessionId: string | null;
  result: string | null;
  durationMs: number;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  error: string | null;
  note: string | null;
}

export interface ContextSummary {
  contextType: ContextType;
  contextId: string;
  /** Null when no run of this context ever got a session confirmed. */
  sessionId: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  runs: RunRecord[];
}

interface SessionRow {
  context_type: ContextType;
  context_id: string;
  session_id: string;
  created_at: string;
  updated_at: string;
  cumulative_cost_usd: number;
}

interface RunRow {
  id: string;
  context_type: ContextType;
  context_id: string;
  session_id: string | null;
  status: RunStatus;
  prompt: string;
  result: string | null;
  started_at: string;
  completed_at: string | null;
  duration_ms: number | null;
  cost_usd: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  error: string | null;
  note: string | null;
}

/** Each entry upgrades the schema by one `user_version`; entries are never edited once shipped. */
const MIGRATIONS = [
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
];

export function excerpt(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

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

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    contextType: row.context_type,
    contextId: row.context_id,
    sessionId: row.session_id,
    status: row.status,
    prompt: row.prompt,
    result: row.result,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    durationMs: row.duration_ms,
    costUsd: row.cost_usd,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    error: row.error,
    note: row.note,
  };
}

/**
 * Which Claude session continues which thread (context), and what each run did.
 * One box has one daemon, so a single synchronous connection is enough; WAL keeps readers
 * (a listing while a run finishes) from blocking on writers.
 */
export class SessionStore {
  private readonly db: BetterSqlite3.Database;
  private readonly now: () => Date;

  private constructor(db: BetterSqlite3.Database, now: () => Date) {
    this.db = db;
    this.now = now;
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

  startRun(input: {
    id: string;
    contextType: ContextType;
    contextId: string;
    sessionId: string | null;
    prompt: string;
  }): RunRecord {
    this.db
      .prepare(
        `INSERT INTO runs (id, context_type, context_id, session_id, status, prompt, started_at)
         VALUES (?, ?, ?, ?, 'running', ?, ?)`,
      )
      .run(
        input.id,
        input.contextType,
        input.contextId,
        input.sessionId,
        excerpt(input.prompt, PROMPT_EXCERPT_CHARS),
        this.timestamp(),
      );
    return this.requireRun(input.id);
  }

  setRunSession(runId: string, sessionId: string): void {
    this.db.prepare("UPDATE runs SET session_id = ? WHERE id = ?").run(sessionId, runId);
  }

  finishRun(runId: string, finish: RunFinish): RunRecord {
    this.db
      .prepare(
        `UPDATE runs SET status = ?, session_id = ?, result = ?, completed_at = ?, duration_ms = ?,
           cost_usd = ?, input_tokens = ?, output_tokens = ?, error = ?, note = ?
         WHERE id = ?`,
      )
      .run(
        finish.status,
        finish.sessionId,
        finish.result === null ? null : excerpt(finish.result, RESULT_EXCERPT_CHARS),
        this.timestamp(),
        finish.durationMs,
        finish.costUsd,
        finish.inputTokens,
        finish.outputTokens,
        finish.error,
        finish.note,
        runId,
      );
    return this.requireRun(runId);
  }

  getRun(runId: string): RunRecord | undefined {
    const row = this.db.prepare<[string], RunRow>("SELECT * FROM runs WHERE id = ?").get(runId);
    return row === undefined ? undefined : toRun(row);
  }

  private requireRun(runId: string): RunRecord {
    const run = this.getRun(runId);
    if (run === undefined) {
      throw new Error(`run ${runId} does not exist`);
    }
    return run;
  }

  listRuns(contextType: ContextType, contextId: string, limit = 20): RunRecord[] {
    return this.db
      .prepare<[string, string, number], RunRow>(
        `SELECT * FROM runs WHERE context_type = ? AND context_id = ?
         ORDER BY started_at DESC, rowid DESC LIMIT ?`,
      )
      .all(contextType, contextId, limit)
      .map(toRun);
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
           SELECT context_type, context_id, MAX(started_at) AS active_at FROM runs GROUP BY context_type, context_id
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
      runs: this.listRuns(row.context_type, row.context_id, options.runsPerContext ?? 5),
    }));
  }

  /** Runs still `running` when the daemon starts were cut off by a crash or restart; nothing will finish them. */
  failInterruptedRuns(): number {
    const result = this.db
      .prepare(
        `UPDATE runs SET status = 'failed', error = 'interrupted by restart', completed_at = ?
         WHERE status = 'running'`,
      )
      .run(this.timestamp());
    return result.changes;
  }

  close(): void {
    if (this.db.open) {
      this.db.close();
    }
  }
}
