import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import type { SDKResultMessage } from "@anthropic-ai/claude-agent-sdk";
import type { Logger } from "@vps-claude/logger";
import type { AgentConfig, BoxApiClient } from "../box-api";
import { type BoxAgentConfig, readUserEnv } from "../config";
import { loadClaudeAgentSdk } from "../externals";
import type { ContextType, RunRecord, SessionStore } from "../session-store";
import { buildClaudeOptions, type McpCommand } from "./claude-options";
import { ClaudeProcesses } from "./claude-processes";
import { KeyedQueue, Semaphore } from "./concurrency";
import { type InstalledSkill, listInstalledSkills } from "./skills";

export interface RunRequest {
  prompt: string;
  contextType: ContextType;
  contextId: string;
}

export interface RunOutcome {
  runId: string;
  /** Null when the run failed before Claude confirmed a session. */
  sessionId: string | null;
  status: "completed" | "failed";
  result: string | null;
  costUsd: number | null;
  durationMs: number;
  error?: string;
  note?: string;
}

export class ShuttingDownError extends Error {
  override name = "ShuttingDownError";
  constructor() {
    super("box-agent is shutting down and takes no new runs");
  }
}

export interface AgentRunnerOptions {
  config: BoxAgentConfig;
  store: SessionStore;
  boxApi: BoxApiClient;
  logger: Logger;
  mcpCommand: McpCommand;
}

/** What a run needs besides its request, gathered once before the first attempt. */
interface PreparedRun {
  agentConfig: AgentConfig;
  userEnv: Record<string, string>;
  installedSkills: InstalledSkill[];
}

/** The stored run plus the full result text (the store keeps an excerpt). */
interface FinishedRun {
  record: RunRecord;
  result: string | null;
}

interface AttemptResult {
  /** The session id Claude confirmed (its `system/init` message), if it got that far. */
  confirmedSessionId: string | null;
  result: SDKResultMessage | undefined;
  thrown: unknown;
  stderrTail: string;
}

const STALE_SESSION = /No conversation found/i;
const STDERR_TAIL_CHARS = 2000;
const CLI_STOP_GRACE_MS = 3000;

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

/**
 * Runs Claude for a thread (context), continuing the thread's session when it has one.
 * Runs of one thread never overlap (each resumes the transcript the previous one wrote), and the
 * box runs at most `maxConcurrentRuns` Claude processes at once, each being a few hundred MB.
 */
export class AgentRunner {
  private readonly config: BoxAgentConfig;
  private readonly store: SessionStore;
  private readonly boxApi: BoxApiClient;
  private readonly logger: Logger;
  private readonly mcpCommand: McpCommand;
  private readonly threads = new KeyedQueue();
  private readonly slots: Semaphore;
  private readonly running = new Map<string, AbortController>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly processes = new ClaudeProcesses();
  private closing = false;

  constructor(options: AgentRunnerOptions) {
    this.config = options.config;
    this.store = options.store;
    this.boxApi = options.boxApi;
    this.logger = options.logger;
    this.mcpCommand = options.mcpCommand;
    this.slots = new Semaphore(options.config.maxConcurrentRuns);
  }

  /** False once shutdown began: callers that must not accept work they cannot start check this first. */
  get acceptingRuns(): boolean {
    return !this.closing;
  }

  runWithSession(request: RunRequest): Promise<RunOutcome> {
    if (this.closing) {
      return Promise.reject(new ShuttingDownError());
    }
    const key = `${request.contextType}\u0000${request.contextId}`;
    const run = this.threads.run(key, () =>
      this.slots.run(() => (this.closing ? Promise.reject(new ShuttingDownError()) : this.execute(request))),
    );
    this.pending.add(run);
    void run.then(
      () => this.pending.delete(run),
      () => this.pending.delete(run),
    );
    return run;
  }

  /** Stops taking runs, aborts the ones in progress (they are recorded as failed) and waits for them. */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const controller of this.running.values()) {
      controller.abort(new Error("box-agent is shutting down"));
    }
    await Promise.allSettled([...this.pending]);
    await this.processes.stopAll(CLI_STOP_GRACE_MS);
  }

  private async execute(request: RunRequest): Promise<RunOutcome> {
    const runId = randomUUID();
    const startedAt = Date.now();
    const log = this.logger.child({ runId, contextType: request.contextType, contextId: request.contextId });
    const existing = this.store.getSession(request.contextType, request.contextId);
    this.store.startRun({
      id: runId,
      contextType: request.contextType,
      contextId: request.contextId,
      sessionId: existing?.sessionId ?? null,
      prompt: request.prompt,
    });

    const controller = new AbortController();
    this.running.set(runId, controller);
    const timeout = setTimeout(() => {
      controller.abort(
        new Error(`the run took longer than ${Math.round(this.config.runTimeoutMs / 1000)} s`),
      );
    }, this.config.runTimeoutMs);
    timeout.unref();

    try {
      const { record, result } = await this.executeRecorded(
        runId,
        request,
        existing?.sessionId,
        controller,
        log,
        startedAt,
      );
      return {
        runId,
        sessionId: record.sessionId,
        status: record.status === "completed" ? "completed" : "failed",
        result,
        costUsd: record.costUsd,
        durationMs: record.durationMs ?? Date.now() - startedAt,
        ...(record.error === null ? {} : { error: record.error }),
        ...(record.note === null ? {} : { note: record.note }),
      };
    } catch (error) {
      // Our own failure (e.g. the store): leave no row claiming to be running, then let the caller see it.
      log.error({ err: error }, "run crashed inside box-agent");
      this.store.finishRun(runId, {
        status: "failed",
        sessionId: existing?.sessionId ?? null,
        result: null,
        durationMs: Date.now() - startedAt,
        costUsd: null,
        inputTokens: null,
        outputTokens: null,
        error: `box-agent failed: ${describeThrown(error)}`,
        note: null,
      });
      throw error;
    } finally {
      clearTimeout(timeout);
      this.running.delete(runId);
    }
  }

  private async executeRecorded(
    runId: string,
    request: RunRequest,
    existingSessionId: string | undefined,
    controller: AbortController,
    log: Logger,
    startedAt: number,
  ): Promise<FinishedRun> {
    const fail = (error: string, sessionId: string | null, note: string | null = null): FinishedRun => {
      log.warn({ error }, "run failed");
      const record = this.store.finishRun(runId, {
        status: "failed",
        sessionId,
        result: null,
        durationMs: Date.now() - startedAt,
        costUsd: null,
        inputTokens: null,
        outputTokens: null,
        error,
        note,
      });
      return { record, result: null };
    };

    let prepared: PreparedRun;
    try {
      const agentConfig = await this.boxApi.getAgentConfig(request.contextType);
      const loaded = readUserEnv(this.config.paths.envFile);
      if (loaded.permissionWarning !== undefined) {
        log.warn(loaded.permissionWarning);
      }
      prepared = {
        agentConfig,
        userEnv: loaded.vars,
        installedSkills: listInstalledSkills(this.config.paths.skillsDir),
      };
    } catch (error) {
      return fail(`could not prepare the run: ${describeThrown(error)}`, existingSessionId ?? null);
    }

    let attempt = await this.attempt(runId, request, prepared, existingSessionId, controller, log);
    let note: string | null = null;
    if (existingSessionId !== undefined && this.isStaleSession(attempt)) {
      // The transcript is gone (config dir wiped, box rebuilt): the thread's memory is lost either way,
      // so the message is answered in a fresh session rather than failing every future run.
      note = `session ${existingSessionId} could not be resumed (No conversation found); started a new session`;
      log.warn({ sessionId: existingSessionId }, note);
      this.store.deleteSession(request.contextType, request.contextId);
      attempt = await this.attempt(runId, request, prepared, undefined, controller, log);
    }

    const sessionId = attempt.confirmedSessionId ?? (note === null ? (existingSessionId ?? null) : null);
    const { result, thrown } = attempt;

    if (controller.signal.aborted) {
      const reason = controller.signal.reason instanceof Error ? controller.signal.reason.message : "aborted";
      return fail(`aborted: ${reason}`, sessionId, note);
    }
    if (result === undefined) {
      const detail =
        attempt.stderrTail.trim() === "" ? "" : ` (Claude Code stderr: ${attempt.stderrTail.trim()})`;
      return fail(
        `Claude did not finish: ${describeThrown(thrown ?? "no result")}${detail}`,
        sessionId,
        note,
      );
    }

    const costUsd = this.runCost(request, sessionId, result.total_cost_usd);
    const usage = result.usage;
    const inputTokens =
      usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens;
    // A throw after a good result still means Claude Code did not end cleanly: the run failed, but
    // the answer it gave is kept.
    const failed = isFailure(result) || thrown !== undefined;
    const text = result.subtype === "success" && !result.is_error ? result.result : null;
    let error: string | null = null;
    if (isFailure(result)) {
      error = resultError(result);
    } else if (thrown !== undefined) {
      error = `Claude Code ended abnormally after answering: ${describeThrown(thrown)}`;
    }
    const record = this.store.finishRun(runId, {
      status: failed ? "failed" : "completed",
      sessionId,
      result: text,
      durationMs: Date.now() - startedAt,
      costUsd,
      inputTokens,
      outputTokens: usage.output_tokens,
      error,
      note,
    });
    if (failed) {
      log.warn({ error }, "run failed");
    } else {
      log.info({ sessionId, durationMs: record.durationMs, costUsd }, "run completed");
    }
    return { record, result: text };
  }

  /** Result totals are per session, carried over across resumes; a run's cost is what it added. */
  private runCost(request: RunRequest, sessionId: string | null, totalCostUsd: number): number {
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
    request: RunRequest,
    { agentConfig, userEnv, installedSkills }: PreparedRun,
    resume: string | undefined,
    controller: AbortController,
    log: Logger,
  ): Promise<AttemptResult> {
    const outcome: AttemptResult = {
      confirmedSessionId: null,
      result: undefined,
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
        agentConfig,
        userEnv,
        installedSkills,
        mcpCommand: this.mcpCommand,
        session: resume === undefined ? { newSessionId: randomUUID() } : { resume },
        abortController: controller,
        spawnClaudeCodeProcess: (spawnOptions) =>
          this.processes.spawn(spawnOptions, (data) => {
            outcome.stderrTail = (outcome.stderrTail + data).slice(-STDERR_TAIL_CHARS);
          }),
      });
      log.debug({ resume, model: agentConfig.model }, "starting Claude");
      for await (const message of query({ prompt: request.prompt, options })) {
        if (message.type === "system" && message.subtype === "init" && outcome.confirmedSessionId === null) {
          // Only now does the session exist on disk; storing it earlier could point a thread at nothing.
          outcome.confirmedSessionId = message.session_id;
          this.store.saveSession(request.contextType, request.contextId, message.session_id);
          this.store.setRunSession(runId, message.session_id);
        } else if (message.type === "result") {
          outcome.result = message;
        }
      }
    } catch (error) {
      // After an error result the SDK also throws; the result already seen is the better account.
      outcome.thrown = error;
      if (outcome.result === undefined) {
        log.warn({ err: error, stderr: outcome.stderrTail }, "Claude run threw before a result");
      }
    }
    return outcome;
  }
}
