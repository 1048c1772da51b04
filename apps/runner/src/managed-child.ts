import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { withParentDeathSignal } from "@vps-claude/embedded";
import { formatLogLine, print } from "./output";

const KEPT_LINES = 40;

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A service the runner started: its output is printed line by line under its name, the last lines
 * are kept for a crash report, and stop() ends its whole process group (a `next start` leaves a
 * `next-server` behind when only the parent is signalled).
 */
export class ManagedChild {
  readonly name: string;
  readonly exited: Promise<ChildExit>;
  private readonly child: ChildProcess;
  private readonly recent: string[] = [];
  private hasExited = false;

  constructor(spec: ChildSpec) {
    this.name = spec.name;
    const { command, args } = withParentDeathSignal(spec.command, spec.args, "TERM");
    this.child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => {
      this.child.once("error", (error) => {
        this.remember(`failed to start: ${error.message}`);
        this.hasExited = true;
        resolve({ code: null, signal: null });
      });
      this.child.once("exit", (code, signal) => {
        this.hasExited = true;
        resolve({ code, signal });
      });
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) {
        createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
          const formatted = formatLogLine(line);
          this.remember(formatted);
          print(this.name, formatted);
        });
      }
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  lastLines(): string[] {
    return [...this.recent];
  }

  /** SIGTERM to the group, SIGKILL to what is left after `graceMs`; resolves when the group is empty. */
  async stop(graceMs: number): Promise<void> {
    const groupId = this.child.pid;
    if (groupId === undefined) {
      return;
    }
    signalGroup(groupId, "SIGTERM");
    if (!(await groupGone(groupId, graceMs))) {
      print("runner", `${this.name} did not stop within ${graceMs / 1000} s; killing it`);
      signalGroup(groupId, "SIGKILL");
      await groupGone(groupId, 2_000);
    }
    if (!this.hasExited) {
      await this.exited;
    }
  }

  /** Immediate SIGKILL of the whole group, for a second Ctrl-C. */
  kill(): void {
    if (this.child.pid !== undefined) {
      signalGroup(this.child.pid, "SIGKILL");
    }
  }

  private remember(line: string): void {
    this.recent.push(line);
    if (this.recent.length > KEPT_LINES) {
      this.recent.shift();
    }
  }
}

function signalGroup(groupId: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-groupId, signal);
  } catch {
    // The group is already empty.
  }
}

async function groupGone(groupId: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(-groupId, 0);
    } catch {
      return true;
    }
    if (Date.now() >= deadline) {
      return false;
    }
    await sleep(50);
  }
}
