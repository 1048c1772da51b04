import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import type { SDKResultMessage } from "@anthropic-ai/claude-agent-sdk";
import type { AgentRun, ContextType, RunCreate, RunEvent, RunStatus } from "@vps-claude/contract/box-agent";
import type { Logger } from "@vps-claude/logger";
import { type BoxAgentConfig, readUserEnv } from "../config";
import type { Inbox } from "../email/inbox";
import { loadClaudeAgentSdk } from "../externals";
import { type RunEventPayload, type RunFinish, toAgentRun } from "../run-store";
import type { SessionStore } from "../session-store";
import { buildClaudeOptions, type McpCommand, runIdHeaders } from "./claude-options";
import { ClaudeProcesses, killLeftoverClaude } from "./claude-processes";
import { KeyedQueue, Semaphore } from "./concurrency";
import { RunEventHub } from "./run-events";
import { type InstalledSkill, listInstalledSkills } from "./skills";
import { TaskPromptError, taskPrompt, taskSummary } from "./task-prompt";
import { clip, ERROR_MAX_CHARS, fitEventSize, RESULT_MAX_CHARS, transcriptEvents } from "./transcript";

export class ShuttingDownError extends Error {
  override name = "ShuttingDownError";
  constructor() {
    super("box-agent is shutting down and takes no new runs; dispatch again once it is back");
  }
}

export class RunNotFoundError extends Error {
  override name = "RunNotFoundError";
  constructor(runId: string) {
    super(`no run ${runId} on this box`);
  }
}

/** Why a run's AbortController fired; it decides the status the run ends with. */
class RunStop extends Error {
  override name = "RunStop";
  readonly status: "cancelled" | "failed" | "interrupted";

  constructor(status: RunStop["status"], message: string) {
    super(message);
    this.status = status;
  }
}

export const RESTART_INTERRUPTION = "box-agent restarted while the run was in progress";
const SHUTDOWN_INTERRUPTION = "box-agent shut down while the run was in progress";

export interface AgentRunnerOptions {
  config: BoxAgentConfig;
  store: SessionStore;
  inbox: Pick<Inbox, "get">;
  logger: Logger;
  mcpCommand: McpCommand;
}

/** What a run needs besides its request, gathered once before the first attempt. */
interface PreparedRun {
  prompt: string;
  userEnv: Record<string, string>;
  installedSkills: InstalledSkill[];
}

interface AttemptResult {
  /** The session id Claude confirmed (its `system/init` message), if it got that far. */
  confirmedSessionId: string | null;
  result: SDKResultMessage | undefined;
  /** Whether the result came before the run was aborted: then Claude finished, and that stands. */
  resultBeforeAbort: boolean;
  thrown: unknown;
  stderrTail: string;
}

const STALE_SESSION = /No conversation found/i;
const STDERR_TAIL_CHARS = 2000;
const CLI_STOP_GRACE_MS = 3000;
/** How long `cancel` waits for a running run to record its end before answering its status as it is. */
const CANCEL_WAIT_MS = 15_000;

const NO_USAGE = {
  costUsd: null,
  inputTokens: null,
  outputTokens: null,
  cacheReadTokens: null,
  cacheWriteTokens: null,
} as const;

function resultError(result: SDKResultMessage): string {
  if (result.subtype === "success") {
    return result.result || "Claude ended the run with an error";
  }
  return result.errors.length > 0 ? result.errors.join("; ") : `Claude stopped: ${result.subtype}`;
}

function isFailure(result: SDKResultMessage): boolean {
  return result.is_error || result.subtype !== "success";
}

function describeThrown(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) {
    return `${ms / 60_000} min`;
  }
  return `${Math.round(ms / 100) / 10} s`;
}

function stopOf(signal: AbortSignal): RunStop {
  return signal.reason instanceof RunStop
    ? signal.reason
    : new RunStop("failed", `aborted: ${describeThrown(signal.reason)}`);
}

/**
 * box-agent's durable run queue. `accept` stores a dispatched run and answers at once; runs then go
 * in order, one at a time per thread (context: each resumes the transcript the previous one wrote)
 * and at most `maxConcurrentRuns` at once (a Claude process is a few hundred MB). Every step is an
 * event in the store, announced on {@link events} once written. A run ends only by itself, by its
 * own `limits.maxDurationMs`, by a cancel, or by the daemon stopping (`interrupted`).
 */
export class AgentRunner {
  readonly events = new RunEventHub();
  private readonly config: BoxAgentConfig;
  private readonly store: SessionStore;
  private readonly inbox: Pick<Inbox, "get">;
  private readonly logger: Logger;
  private readonly mcpCommand: McpCommand;
  private readonly threads = new KeyedQueue();
  private readonly slots: Semaphore;
  /** Runs in progress, by id, with the controller that stops them. */
  private readonly active = new Map<string, AbortController>();
  /** Every scheduled run's task (queued or running), settled once it ran or was skipped. */
  private readonly scheduled = new Map<string, Promise<void>>();
  private readonly processes = new ClaudeProcesses();
  private closing = false;

  constructor(options: AgentRunnerOptions) {
    this.config = options.config;
    this.store = options.store;
    this.inbox = options.inbox;
    this.logger = options.logger;
    this.mcpCommand = options.mcpCommand;
    this.slots = new Semaphore(options.config.maxConcurrentRuns);
  }

  /** False once shutdown began: callers that must not accept work they cannot start check this first. */
  get acceptingRuns(): boolean {
    return !this.closing;
  }

  /**
   * Stores a new run as `queued` and schedules it; answers with the events stored on the way (its
   * `queued`). A run accepted before is answered as it is now, with no events: its stream has them.
   */
  accept(request: RunCreate): { runId: string; status: RunStatus; duplicate: boolean; events: RunEvent[] } {
    if (this.closing) {
      throw new ShuttingDownError();
    }
    const existing = this.store.runs.get(request.runId);
    if (existing !== undefined) {
      return { runId: existing.id, status: existing.status, duplicate: true, events: [] };
    }
    const queued = this.store.runs.create(request, taskSummary(request.task));
    this.events.publish(request.runId, queued);
    this.logger.info(
      { runId: request.runId, trigger: request.trigger, contextType: request.contextType },
      "run accepted",
    );
    this.schedule(request.runId, request.contextType, request.contextId);
    return { runId: request.runId, status: "queued", duplicate: false, events: [queued] };
  }

  get(runId: string): AgentRun | undefined {
    const run = this.store.runs.get(runId);
    return run === undefined ? undefined : toAgentRun(run, this.store.runs.lastSeq(runId));
  }

  /**
   * A queued run ends `cancelled` at once; a running one is aborted (its Claude Code process
   * stopped) and answered once it recorded its end; a finished one answers its status unchanged.
   */
  async cancel(runId: string): Promise<{ id: string; status: RunStatus }> {
    const run = this.store.runs.get(runId);
    if (run === undefined) {
      throw new RunNotFoundError(runId);
    }
    if (run.status === "queued") {
      this.end(
        runId,
        {
          status: "cancelled",
          sessionId: run.sessionId,
          result: null,
          error: "cancelled before it started",
          durationMs: 0,
          ...NO_USAGE,
          note: null,
        },
        ["queued"],
      );
    } else if (run.status === "running") {
      this.active.get(runId)?.abort(new RunStop("cancelled", "cancelled while it was running"));
      const task = this.scheduled.get(runId);
      if (task !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([task, new Promise((resolve) => (timer = setTimeout(resolve, CANCEL_WAIT_MS)))]);
        clearTimeout(timer);
      }
    }
    return { id: runId, status: this.store.runs.get(runId)?.status ?? run.status };
  }

  /**
   * At startup: runs left `running` were cut off by the last process's end and become `interrupted`
   * (a Claude Code process it left behind is killed first); runs left `queued` are scheduled again,
   * in the order they were accepted.
   */
  recover(): { interrupted: number; requeued: number } {
    const cutOff = this.store.runs.listByStatus("running");
    for (const run of cutOff) {
      if (run.claudePid !== null) {
        killLeftoverClaude(run.claudePid, `ANTHROPIC_CUSTOM_HEADERS=${runIdHeaders(run.id)}`);
      }
      const startedAt = run.startedAt === null ? Number.NaN : Date.parse(run.startedAt);
      this.end(
        run.id,
        {
          status: "interrupted",
          sessionId: run.sessionId,
          result: null,
          error: RESTART_INTERRUPTION,
          durationMs: Number.isNaN(startedAt) ? 0 : Math.max(0, Date.now() - startedAt),
          ...NO_USAGE,
          note: run.note,
        },
        ["running"],
      );
    }
    const queued = this.store.runs.listByStatus("queued");
    for (const run of queued) {
      this.schedule(run.id, run.contextType, run.contextId);
    }
    return { interrupted: cutOff.length, requeued: queued.length };
  }

  /**
   * Stops taking runs and aborts the ones in progress, which end `interrupted`; queued ones stay
   * queued for the next start. Ends every event stream once the runs recorded their end.
   */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const controller of this.active.values()) {
      controller.abort(new RunStop("interrupted", SHUTDOWN_INTERRUPTION));
    }
    await Promise.allSettled([...this.scheduled.values()]);
    await this.processes.stopAll(CLI_STOP_GRACE_MS);
    this.events.close();
  }

  private schedule(runId: string, contextType: ContextType, contextId: string): void {
    const key = `${contextType}\u0000${contextId}`;
    const task = this.threads
      .run(key, () => this.slots.run(() => this.execute(runId)))
      .catch((error: unknown) => {
        this.logger.error({ err: error, runId }, "run crashed inside box-agent");
      });
    this.scheduled.set(runId, task);
    void task.then(() => this.scheduled.delete(runId));
  }

  private emit(runId: string, payload: RunEventPayload): void {
    this.events.publish(runId, this.store.runs.append(runId, fitEventSize(payload)));
  }

  /** Records the run's end and its `done` event (once: only from a status in `from`) and announces it. */
  private end(runId: string, finish: RunFinish, from: RunStatus[]): void {
    const { note, ...run } = finish;
    const bounded = {
      ...run,
      result: run.result === null ? null : clip(run.result, RESULT_MAX_CHARS),
      error: run.error === null ? null : clip(run.error, ERROR_MAX_CHARS),
    };
    const fitted = fitEventSize({ type: "done", run: bounded });
    const done = this.store.runs.finish(
      runId,
      {
        ...(fitted.type === "done" ? fitted.run : bounded),
        note: note === null ? null : clip(note, ERROR_MAX_CHARS),
      },
      from,
    );
    if (done !== undefined) {
      this.events.publish(runId, done);
    }
  }

  private async execute(runId: string): Promise<void> {
    if (this.closing) {
      return; // Left queued: the next start of the daemon runs it.
    }
    const queued = this.store.runs.get(runId);
    if (queued?.status !== "queued") {
      return; // Cancelled while it waited.
    }
    const log = this.logger.child({ runId, contextType: queued.contextType, contextId: queued.contextId });
    let request: RunCreate;
    try {
      request = this.store.runs.request(runId);
    } catch (error) {
      log.error({ err: error }, "run cannot be read back");
      this.end(
        runId,
        {
          status: "failed",
          sessionId: null,
          result: null,
          error: describeThrown(error),
          durationMs: 0,
          ...NO_USAGE,
          note: null,
        },
        ["queued"],
      );
      return;
    }

    const resume =
      request.session === "continue"
        ? this.store.getSession(request.contextType, request.contextId)?.sessionId
        : undefined;
    const started = this.store.runs.start(runId, { sessionId: resume ?? null });
    if (started === undefined) {
      return;
    }
    const controller = new AbortController();
    this.active.set(runId, controller);
    this.events.publish(runId, started);
    const startedAt = Date.now();
    const limitMs = request.limits.maxDurationMs;
    const limit = setTimeout(() => {
      controller.abort(
        new RunStop(
          "failed",
          `the run took longer than its limit of ${formatDuration(limitMs)} (limits.maxDurationMs = ${limitMs})`,
        ),
      );
    }, limitMs);

    let finish: RunFinish;
    try {
      finish = await this.runClaude(runId, request, resume, controller, log, startedAt);
    } catch (error) {
      // Our own failure (e.g. the store): leave no row claiming to be running.
      log.error({ err: error }, "run crashed inside box-agent");
      finish = {
        status: "failed",
        sessionId: resume ?? null,
        result: null,
        error: `box-agent failed: ${describeThrown(error)}`,
        durationMs: Date.now() - startedAt,
        ...NO_USAGE,
        note: null,
      };
    } finally {
      clearTimeout(limit);
      if (controller.signal.aborted) {
        // Nothing the run started may outlive its end: no CLI finishing its turn on its own.
        await this.processes.stopRun(runId, CLI_STOP_GRACE_MS);
      }
      this.active.delete(runId);
    }
    if (finish.status === "failed" && finish.error !== null) {
      this.emit(runId, { type: "error", message: clip(finish.error, ERROR_MAX_CHARS) });
    }
    this.end(runId, finish, ["running"]);
    if (finish.status === "completed") {
      log.info(
        { sessionId: finish.sessionId, durationMs: finish.durationMs, costUsd: finish.costUsd },
        "run completed",
      );
    } else {
      log.warn({ status: finish.status, error: finish.error }, "run did not complete");
    }
  }

  private async runClaude(
    runId: string,
    request: RunCreate,
    resume: string | undefined,
    controller: AbortController,
    log: Logger,
    startedAt: number,
  ): Promise<RunFinish> {
    const ended = (
      status: RunFinish["status"],
      error: string,
      sessionId: string | null,
      note: string | null = null,
    ): RunFinish => ({
      status,
      sessionId,
      result: null,
      error,
      durationMs: Date.now() - startedAt,
      ...NO_USAGE,
      note,
    });

    let prepared: PreparedRun;
    try {
      const prompt = taskPrompt(request.task, this.inbox);
      const loaded = readUserEnv(this.config.paths.envFile);
      if (loaded.permissionWarning !== undefined) {
        log.warn(loaded.permissionWarning);
      }
      prepared = {
        prompt,
        userEnv: loaded.vars,
        installedSkills: listInstalledSkills(this.config.paths.skillsDir),
      };
    } catch (error) {
      const message =
        error instanceof TaskPromptError
          ? error.message
          : `could not prepare the run: ${describeThrown(error)}`;
      return ended("failed", message, resume ?? null);
    }
    this.store.runs.setPrompt(runId, prepared.prompt);

    let attempt = await this.attempt(runId, request, prepared, resume, controller, log);
    let note: string | null = null;
    if (resume !== undefined && !controller.signal.aborted && this.isStaleSession(attempt)) {
      // The transcript is gone (config dir wiped, box rebuilt): the thread's memory is lost either way,
      // so the task is done in a fresh session rather than failing every future run.
      note = `session ${resume} could not be resumed (No conversation found); started a new session`;
      log.warn({ sessionId: resume }, note);
      this.emit(runId, { type: "error", message: note });
      this.store.deleteSession(request.contextType, request.contextId);
      this.store.runs.setSession(runId, null);
      attempt = await this.attempt(runId, request, prepared, undefined, controller, log);
    }

    const sessionId = attempt.confirmedSessionId ?? (note === null ? (resume ?? null) : null);
    const { result } = attempt;
    if (controller.signal.aborted && !(result !== undefined && attempt.resultBeforeAbort)) {
      const stop = stopOf(controller.signal);
      return ended(stop.status, stop.message, sessionId, note);
    }
    if (result === undefined) {
      const stderr = attempt.stderrTail.trim();
      const detail = stderr === "" ? "" : ` (Claude Code stderr: ${stderr})`;
      return ended(
        "failed",
        `Claude did not finish: ${describeThrown(attempt.thrown ?? "no result")}${detail}`,
        sessionId,
        note,
      );
    }

    // A throw after a good result still means Claude Code did not end cleanly (unless we stopped it
    // after it answered): the run failed, but the answer it gave is kept.
    const thrown = controller.signal.aborted ? undefined : attempt.thrown;
    let error: string | null = null;
    if (isFailure(result)) {
      error = resultError(result);
    } else if (thrown !== undefined) {
      error = `Claude Code ended abnormally after answering: ${describeThrown(thrown)}`;
    }
    const usage = result.usage;
    return {
      status: error === null ? "completed" : "failed",
      sessionId,
      result: result.subtype === "success" && !result.is_error ? result.result : null,
      error,
      durationMs: Date.now() - startedAt,
      costUsd: this.runCost(request, sessionId, result.total_cost_usd),
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      cacheReadTokens: usage.cache_read_input_tokens,
      cacheWriteTokens: usage.cache_creation_input_tokens,
      note,
    };
  }

  /** Result totals are per session, carried over across resumes; a run's cost is what it added. */
  private runCost(request: RunCreate, sessionId: string | null, totalCostUsd: number): number {
    if (sessionId === null) {
      return totalCostUsd;
    }
    const session = this.store.getSession(request.contextType, request.contextId);
    const before = session?.sessionId === sessionId ? session.cumulativeCostUsd : 0;
    this.store.setSessionCost(request.contextType, request.contextId, sessionId, totalCostUsd);
    // A transcript without a saved total starts again from zero; then the result is this run alone.
    return totalCostUsd >= before ? totalCostUsd - before : totalCostUsd;
  }

  private isStaleSession(attempt: AttemptResult): boolean {
    if (attempt.confirmedSessionId !== null) {
      return false;
    }
    const texts = [
      attempt.result === undefined ? "" : resultError(attempt.result),
      describeThrown(attempt.thrown),
    ];
    return texts.some((text) => STALE_SESSION.test(text));
  }

  private async attempt(
    runId: string,
    request: RunCreate,
    { prompt, userEnv, installedSkills }: PreparedRun,
    resume: string | undefined,
    controller: AbortController,
    log: Logger,
  ): Promise<AttemptResult> {
    const outcome: AttemptResult = {
      confirmedSessionId: null,
      result: undefined,
      resultBeforeAbort: false,
      thrown: undefined,
      stderrTail: "",
    };
    try {
      const { query } = await loadClaudeAgentSdk();
      mkdirSync(this.config.paths.claudeConfigDir, { recursive: true, mode: 0o700 });
      mkdirSync(this.config.paths.claudeTmpDir, { recursive: true, mode: 0o700 });
      const options = buildClaudeOptions({
        config: this.config,
        runId,
        agent: request.agent,
        userEnv,
        installedSkills,
        mcpCommand: this.mcpCommand,
        session: resume === undefined ? { newSessionId: randomUUID() } : { resume },
        abortController: controller,
        spawnClaudeCodeProcess: (spawnOptions) => {
          const child = this.processes.spawn(spawnOptions, runId, (data) => {
            outcome.stderrTail = (outcome.stderrTail + data).slice(-STDERR_TAIL_CHARS);
          });
          if (child.pid !== undefined) {
            this.store.runs.setClaudePid(runId, child.pid);
          }
          return child;
        },
      });
      log.debug({ resume, model: request.agent.model }, "starting Claude");
      for await (const message of query({ prompt, options })) {
        if (message.type === "system" && message.subtype === "init" && outcome.confirmedSessionId === null) {
          // Only now does the session exist on disk; storing it earlier could point a thread at nothing.
          outcome.confirmedSessionId = message.session_id;
          this.store.saveSession(request.contextType, request.contextId, message.session_id);
          this.store.runs.setSession(runId, message.session_id);
          this.emit(runId, { type: "status", status: "running", sessionId: message.session_id });
        } else if (message.type === "result") {
          outcome.result = message;
          outcome.resultBeforeAbort = !controller.signal.aborted;
        } else {
          for (const event of transcriptEvents(message)) {
            this.emit(runId, event);
          }
        }
      }
    } catch (error) {
      // After an error result the SDK also throws; the result already seen is the better account.
      outcome.thrown = error;
      if (outcome.result === undefined && !controller.signal.aborted) {
        log.warn({ err: error, stderr: outcome.stderrTail }, "Claude run threw before a result");
      }
    }
    return outcome;
  }
}
