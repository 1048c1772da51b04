import {
  type AgentRun,
  type ContextType,
  type RunCreate,
  type RunEnd,
  type RunEvent,
  type RunStatus,
  type RunTrigger,
  runCreateInput,
} from "@vps-claude/contract/box-agent";
import type BetterSqlite3 from "better-sqlite3";

export type { RunStatus };

/** Listings show excerpts; `GET /runs/{id}` and the `done` event carry the whole (bounded) result. */
export const PROMPT_EXCERPT_CHARS = 1000;
export const RESULT_EXCERPT_CHARS = 4000;

export function excerpt(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event before the store gave it its sequence number and time. */
export type RunEventPayload = DistributiveOmit<RunEvent, "seq" | "at">;

export interface StoredRun {
  id: string;
  trigger: RunTrigger;
  contextType: ContextType;
  contextId: string;
  /** The session the run resumes or Claude confirmed; null until known (a run can fail before that). */
  sessionId: string | null;
  status: RunStatus;
  /** An excerpt of what Claude was asked (for an email run: its rendered prompt, once the run started). */
  prompt: string;
  result: string | null;
  error: string | null;
  /** Something the run's reader should know that is not an error, e.g. that a new session replaced a lost one. */
  note: string | null;
  queuedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  /** The last Claude Code process started for the run, so a restart can stop one a crash left behind. */
  claudePid: number | null;
}

/** How a run ended: its `done` event's `run`, plus the note kept on the row. */
export interface RunFinish extends RunEnd {
  note: string | null;
}

interface RunRow {
  id: string;
  trigger: RunTrigger;
  context_type: ContextType;
  context_id: string;
  session_id: string | null;
  status: RunStatus;
  request: string | null;
  prompt: string;
  result: string | null;
  error: string | null;
  note: string | null;
  queued_at: string;
  started_at: string | null;
  completed_at: string | null;
  duration_ms: number | null;
  cost_usd: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  claude_pid: number | null;
}

interface EventRow {
  seq: number;
  type: RunEvent["type"];
  data: string;
  at: string;
}

function toRun(row: RunRow): StoredRun {
  return {
    id: row.id,
    trigger: row.trigger,
    contextType: row.context_type,
    contextId: row.context_id,
    sessionId: row.session_id,
    status: row.status,
    prompt: row.prompt,
    result: row.result,
    error: row.error,
    note: row.note,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    durationMs: row.duration_ms,
    costUsd: row.cost_usd,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cacheReadTokens: row.cache_read_tokens,
    cacheWriteTokens: row.cache_write_tokens,
    claudePid: row.claude_pid,
  };
}

function toEvent(row: EventRow): RunEvent {
  // Written by `append` from a typed payload; the row's columns restore what was split off.
  return { ...(JSON.parse(row.data) as object), seq: row.seq, at: row.at, type: row.type } as RunEvent;
}

export class UnreadableRunRequestError extends Error {
  override name = "UnreadableRunRequestError";
}

/**
 * Runs accepted by `POST /runs` and their transcript events, in the box's SQLite. The request is kept
 * with the run, so one still queued when the daemon stops is run after it starts again. Every event
 * gets the run's next sequence number here; the final state and the `done` event are one transaction.
 */
export class RunStore {
  private readonly db: BetterSqlite3.Database;
  private readonly now: () => Date;

  constructor(db: BetterSqlite3.Database, now: () => Date) {
    this.db = db;
    this.now = now;
  }

  private timestamp(): string {
    return this.now().toISOString();
  }

  /** Stores the run `queued` with its request and its first event (`status: queued`). */
  create(request: RunCreate, prompt: string): RunEvent {
    return this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO runs (id, trigger, context_type, context_id, status, request, prompt, queued_at)
           VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)`,
        )
        .run(
          request.runId,
          request.trigger,
          request.contextType,
          request.contextId,
          JSON.stringify(request),
          excerpt(prompt, PROMPT_EXCERPT_CHARS),
          this.timestamp(),
        );
      return this.append(request.runId, { type: "status", status: "queued", sessionId: null });
    })();
  }

  get(runId: string): StoredRun | undefined {
    const row = this.db.prepare<[string], RunRow>("SELECT * FROM runs WHERE id = ?").get(runId);
    return row === undefined ? undefined : toRun(row);
  }

  /** The dispatch the run was accepted with, read back through the contract's schema. */
  request(runId: string): RunCreate {
    const row = this.db
      .prepare<[string], { request: string | null }>("SELECT request FROM runs WHERE id = ?")
      .get(runId);
    if (row?.request == null) {
      throw new UnreadableRunRequestError(`run ${runId} has no stored request to run`);
    }
    const parsed = runCreateInput.safeParse(JSON.parse(row.request));
    if (!parsed.success) {
      throw new UnreadableRunRequestError(`the stored request of run ${runId} no longer parses`);
    }
    return parsed.data;
  }

  /**
   * `queued → running`, with its `status: running` event; undefined when the run is no longer queued.
   * The row keeps the session the run resumes; the event names none until Claude confirms one.
   */
  start(runId: string, input: { sessionId: string | null }): RunEvent | undefined {
    return this.db.transaction(() => {
      const changed = this.db
        .prepare(
          `UPDATE runs SET status = 'running', started_at = ?, session_id = ? WHERE id = ? AND status = 'queued'`,
        )
        .run(this.timestamp(), input.sessionId, runId).changes;
      return changed === 0
        ? undefined
        : this.append(runId, { type: "status", status: "running", sessionId: null });
    })();
  }

  setPrompt(runId: string, prompt: string): void {
    this.db
      .prepare("UPDATE runs SET prompt = ? WHERE id = ?")
      .run(excerpt(prompt, PROMPT_EXCERPT_CHARS), runId);
  }

  setSession(runId: string, sessionId: string | null): void {
    this.db.prepare("UPDATE runs SET session_id = ? WHERE id = ?").run(sessionId, runId);
  }

  setClaudePid(runId: string, pid: number): void {
    this.db.prepare("UPDATE runs SET claude_pid = ? WHERE id = ?").run(pid, runId);
  }

  /** Stores the event under the run's next sequence number and returns it as it will be sent. */
  append(runId: string, payload: RunEventPayload): RunEvent {
    const { type, ...data } = payload;
    const at = this.timestamp();
    return this.db.transaction(() => {
      const { next } = this.db
        .prepare<[string], { next: number }>(
          "SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM run_events WHERE run_id = ?",
        )
        .get(runId) ?? { next: 1 };
      this.db
        .prepare("INSERT INTO run_events (run_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)")
        .run(runId, next, type, JSON.stringify(data), at);
      return toEvent({ seq: next, type, data: JSON.stringify(data), at });
    })();
  }

  /**
   * Ends the run if its status is one of `from`, writing its final state and its `done` event in one
   * transaction; undefined when it was not (it ended already, or was never there).
   */
  finish(runId: string, finish: RunFinish, from: RunStatus[]): RunEvent | undefined {
    return this.db.transaction(() => {
      const placeholders = from.map(() => "?").join(", ");
      const changed = this.db
        .prepare(
          `UPDATE runs SET status = ?, session_id = ?, result = ?, error = ?, note = ?, completed_at = ?,
             duration_ms = ?, cost_usd = ?, input_tokens = ?, output_tokens = ?, cache_read_tokens = ?,
             cache_write_tokens = ?
           WHERE id = ? AND status IN (${placeholders})`,
        )
        .run(
          finish.status,
          finish.sessionId,
          finish.result,
          finish.error,
          finish.note,
          this.timestamp(),
          finish.durationMs,
          finish.costUsd,
          finish.inputTokens,
          finish.outputTokens,
          finish.cacheReadTokens,
          finish.cacheWriteTokens,
          runId,
          ...from,
        ).changes;
      if (changed === 0) {
        return undefined;
      }
      const { note: _note, ...run } = finish;
      return this.append(runId, { type: "done", run });
    })();
  }

  /** The run's events with a sequence number above `afterSeq`, in order. */
  events(runId: string, afterSeq = 0): RunEvent[] {
    return this.db
      .prepare<[string, number], EventRow>(
        "SELECT seq, type, data, at FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq",
      )
      .all(runId, afterSeq)
      .map(toEvent);
  }

  lastSeq(runId: string): number {
    return (
      this.db
        .prepare<[string], { last: number }>(
          "SELECT COALESCE(MAX(seq), 0) AS last FROM run_events WHERE run_id = ?",
        )
        .get(runId)?.last ?? 0
    );
  }

  /** Runs in a status, in the order they were accepted. */
  listByStatus(status: RunStatus): StoredRun[] {
    return this.db
      .prepare<[string], RunRow>("SELECT * FROM runs WHERE status = ? ORDER BY queued_at, rowid")
      .all(status)
      .map(toRun);
  }

  /** A context's runs, newest first. */
  listForContext(contextType: ContextType, contextId: string, limit = 20): StoredRun[] {
    return this.db
      .prepare<[string, string, number], RunRow>(
        `SELECT * FROM runs WHERE context_type = ? AND context_id = ?
         ORDER BY queued_at DESC, rowid DESC LIMIT ?`,
      )
      .all(contextType, contextId, limit)
      .map(toRun);
  }
}

/** `GET /runs/{id}`'s answer. */
export function toAgentRun(run: StoredRun, lastSeq: number): AgentRun {
  return {
    id: run.id,
    trigger: run.trigger,
    contextType: run.contextType,
    contextId: run.contextId,
    sessionId: run.sessionId,
    status: run.status,
    result: run.result,
    error: run.error,
    queuedAt: run.queuedAt,
    startedAt: run.startedAt,
    completedAt: run.completedAt,
    durationMs: run.durationMs,
    costUsd: run.costUsd,
    inputTokens: run.inputTokens,
    outputTokens: run.outputTokens,
    cacheReadTokens: run.cacheReadTokens,
    cacheWriteTokens: run.cacheWriteTokens,
    lastSeq,
  };
}
