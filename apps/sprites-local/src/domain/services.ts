import type { ChildProcess } from "node:child_process";
import { constants as osConstants } from "node:os";
import { StringDecoder } from "node:string_decoder";
import type { Logger } from "@vps-claude/logger";
import { signalTree, waitForCommandPid } from "./process-tree.js";
import { BoundedLogFile } from "./resources/service-log.js";
import type { ServiceDefinition } from "./store.js";

export type ServiceStatus = "stopped" | "starting" | "running" | "stopping" | "failed";

/** One line of the NDJSON service log stream, in the API's snake_case. */
export interface ServiceEvent {
  type: "stdout" | "stderr" | "exit" | "error" | "complete" | "started" | "stopping" | "stopped";
  data?: string;
  exit_code?: number;
  timestamp: number;
  log_files?: Record<string, string>;
}

export interface ServiceHost {
  spawn(definition: ServiceDefinition): ChildProcess;
  commandPid(child: ChildProcess): number | null;
  logger: Logger;
}

const HISTORY_LIMIT = 2000;
/** Output kept in memory for `logs?lines=`, per service; older events are dropped first. */
const HISTORY_BYTES = 1024 * 1024;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A run this long counts as healthy, so the next crash starts the backoff over. */
const HEALTHY_RUN_MS = 30_000;

export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) {
    return code;
  }
  const signo = signal ? osConstants.signals[signal] : undefined;
  return 128 + (signo ?? 0);
}

/**
 * A supervised process: restarted with exponential backoff when it exits on its own,
 * frozen (SIGSTOP) while the sprite is warm and killed while it is cold.
 */
export class ServiceRuntime {
  readonly name: string;
  definition: ServiceDefinition;
  status: ServiceStatus = "stopped";
  pid: number | null = null;
  startedAt: string | null = null;
  error: string | null = null;
  restartCount = 0;
  nextRestartAt: string | null = null;

  private readonly host: ServiceHost;
  private readonly log: BoundedLogFile;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | null = null;
  private backoffStep = 0;
  private restartOnThaw = false;
  /** What an exit means: "run" → crash (restart), anything else → expected. */
  private intent: "run" | "stop" | "sleep" = "stop";
  private readonly history: ServiceEvent[] = [];
  private historyBytes = 0;
  private readonly listeners = new Set<(event: ServiceEvent) => void>();

  /** `logBytes` caps the log file; past it the file rotates (see BoundedLogFile). */
  constructor(
    name: string,
    definition: ServiceDefinition,
    host: ServiceHost,
    logFile: string,
    logBytes = 4 * 1024 * 1024,
  ) {
    this.name = name;
    this.definition = definition;
    this.host = host;
    this.log = new BoundedLogFile(logFile, logBytes);
  }

  get isRunning(): boolean {
    return this.child !== null;
  }

  get logFiles(): Record<string, string> {
    return { output: this.log.file };
  }

  start(): void {
    this.intent = "run";
    if (this.child) {
      return;
    }
    this.clearRestart();
    this.launch();
  }

  async stop(timeoutMs: number): Promise<void> {
    this.intent = "stop";
    this.clearRestart();
    const child = this.child;
    if (!child || child.pid === undefined) {
      this.status = "stopped";
      return;
    }
    this.status = "stopping";
    this.emit({ type: "stopping", timestamp: Date.now() });
    signalTree(child.pid, "SIGCONT");
    // SIGTERM goes to the command only: bwrap itself would die and leave the sandbox running.
    const target = await waitForCommandPid(() => this.host.commandPid(child));
    if (target !== null) {
      try {
        process.kill(target, "SIGTERM");
      } catch {
        // Exited in the meantime.
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut && child.pid !== undefined) {
      signalTree(child.pid, "SIGKILL");
      await this.exited;
    }
  }

  /** Cold sleep: the process goes away but stays wanted, so the next wake starts it again. */
  async suspend(): Promise<void> {
    this.intent = "sleep";
    this.clearRestart();
    const child = this.child;
    if (child?.pid !== undefined) {
      signalTree(child.pid, "SIGKILL");
      await this.exited;
    }
    this.status = "stopped";
  }

  /** Delivers a signal to the service's command (not to the sandbox processes above it). */
  signal(signal: NodeJS.Signals): void {
    const child = this.child;
    if (child?.pid === undefined) {
      return;
    }
    void waitForCommandPid(() => this.host.commandPid(child)).then((pid) => {
      if (pid === null) {
        return;
      }
      try {
        process.kill(pid, signal);
      } catch {
        // Exited in the meantime.
      }
    });
  }

  freeze(): void {
    if (this.child?.pid !== undefined) {
      signalTree(this.child.pid, "SIGSTOP");
    }
    // A restart due while the sprite sleeps waits for the wake.
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
      this.restartOnThaw = true;
    }
  }

  thaw(): void {
    if (this.child?.pid !== undefined) {
      signalTree(this.child.pid, "SIGCONT");
    }
    if (this.restartOnThaw) {
      this.restartOnThaw = false;
      this.nextRestartAt = null;
      if (this.intent === "run" && !this.child) {
        this.launch();
      }
    }
  }

  subscribe(listener: (event: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  recent(lines: number): ServiceEvent[] {
    return this.history.slice(-lines);
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      cmd: this.definition.cmd,
      args: this.definition.args,
      env: this.definition.env,
      dir: this.definition.dir,
      needs: this.definition.needs,
      http_port: this.definition.httpPort,
      state: {
        name: this.name,
        status: this.status,
        ...(this.pid !== null && { pid: this.pid }),
        ...(this.startedAt !== null && { started_at: this.startedAt }),
        ...(this.error !== null && { error: this.error }),
        restart_count: this.restartCount,
        ...(this.nextRestartAt !== null && { next_restart_at: this.nextRestartAt }),
      },
    };
  }

  private launch(): void {
    let child: ChildProcess;
    try {
      child = this.host.spawn(this.definition);
    } catch (error) {
      this.fail(error instanceof Error ? error.message : String(error));
      return;
    }
    this.child = child;
    this.status = "running";
    this.pid = child.pid ?? null;
    this.startedAt = new Date().toISOString();
    this.error = null;
    const launchedAt = Date.now();
    this.emit({ type: "started", timestamp: launchedAt });
    child.stdin?.end();
    for (const [stream, type] of [
      [child.stdout, "stdout"],
      [child.stderr, "stderr"],
    ] as const) {
      const decoder = new StringDecoder("utf8");
      stream?.on("data", (chunk: Buffer) => {
        this.emit({ type, data: decoder.write(chunk), timestamp: Date.now() });
      });
    }
    let settled = false;
    this.exited = new Promise<void>((resolve) => {
      const onDone = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) {
          return;
        }
        settled = true;
        this.onExit(exitCodeOf(code, signal), launchedAt);
        resolve();
      };
      child.once("close", onDone);
      child.once("error", (error) => {
        this.host.logger.warn({ err: error, service: this.name }, "service process error");
        onDone(127, null);
      });
    });
  }

  private onExit(exitCode: number, launchedAt: number): void {
    this.child = null;
    this.pid = null;
    this.emit({ type: "exit", exit_code: exitCode, timestamp: Date.now() });
    if (this.intent !== "run") {
      this.status = "stopped";
      this.emit({ type: "stopped", timestamp: Date.now() });
      return;
    }
    if (Date.now() - launchedAt > HEALTHY_RUN_MS) {
      this.backoffStep = 0;
    }
    const delay = Math.min(BACKOFF_BASE_MS * 2 ** this.backoffStep, BACKOFF_MAX_MS);
    this.backoffStep += 1;
    this.restartCount += 1;
    this.status = "starting";
    this.error = `exited with code ${exitCode}; restarting in ${delay} ms`;
    this.nextRestartAt = new Date(Date.now() + delay).toISOString();
    this.host.logger.info({ service: this.name, exitCode, delay }, "service exited; restarting");
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.nextRestartAt = null;
      if (this.intent === "run" && !this.child) {
        this.launch();
      }
    }, delay);
    this.restartTimer.unref();
  }

  private fail(message: string): void {
    this.status = "failed";
    this.error = message;
    this.emit({ type: "error", data: message, timestamp: Date.now() });
  }

  private clearRestart(): void {
    this.restartOnThaw = false;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    this.nextRestartAt = null;
    this.backoffStep = 0;
  }

  private emit(event: ServiceEvent): void {
    this.history.push(event);
    this.historyBytes += event.data?.length ?? 0;
    let drop = 0;
    while (
      drop < this.history.length - 1 &&
      (this.history.length - drop > HISTORY_LIMIT || this.historyBytes > HISTORY_BYTES)
    ) {
      this.historyBytes -= this.history[drop]?.data?.length ?? 0;
      drop += 1;
    }
    if (drop > 0) {
      this.history.splice(0, drop);
    }
    const line =
      event.data !== undefined
        ? `${event.type}: ${event.data}`
        : `${event.type}${event.exit_code !== undefined ? ` ${event.exit_code}` : ""}\n`;
    this.log.write(`[${new Date(event.timestamp).toISOString()}] ${line}`);
    for (const listener of this.listeners) {
      listener(event);
    }
  }
}
