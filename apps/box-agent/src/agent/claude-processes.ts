import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { setPriority } from "node:os";
import type { SpawnedProcess, SpawnOptions } from "@anthropic-ai/claude-agent-sdk";

/**
 * Claude Code (and the MCP servers it starts, which inherit it) runs below box-agent's own priority.
 * A run's CLI is the box's heavy work; box-agent is its control plane: its event streams, health
 * checks and cancels must not wait behind a CLI starting up. Measured: a run's `status` events, emitted
 * as a CLI starts, reached the dashboard seconds late while the CLIs of the same box had the CPU.
 * Raising a child's niceness needs no privilege.
 */
export const CLAUDE_NICENESS = 10;

/**
 * Starts the Claude Code processes of runs and keeps hold of them, by run. An aborted query's CLI is
 * only signalled by the SDK after a grace period, on timers that do not keep the daemon alive:
 * without this, a cancel or a shutdown could leave a CLI finishing its turn (calling tools,
 * sending emails) on its own.
 */
export class ClaudeProcesses {
  private readonly children = new Map<ChildProcessWithoutNullStreams, string>();

  spawn(
    options: SpawnOptions,
    runId: string,
    onStderr: (data: string) => void,
  ): ChildProcessWithoutNullStreams & SpawnedProcess {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
      // The SDK's forwarded signal fires only after its own graceful close had its chance.
      signal: options.signal,
    });
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, CLAUDE_NICENESS);
      } catch {
        // Gone already, or a platform without priorities: it runs at box-agent's priority.
      }
    }
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", onStderr);
    // With `signal`, Node reports the abort as an 'error' too; the SDK listens for it, and an
    // unhandled one must not take the daemon down.
    child.on("error", () => undefined);
    this.children.set(child, runId);
    child.once("exit", () => {
      this.children.delete(child);
    });
    return child;
  }

  get count(): number {
    return this.children.size;
  }

  /** Stops what is left of one run's CLIs (see {@link stopAll}). */
  stopRun(runId: string, graceMs: number): Promise<void> {
    return this.stop(
      [...this.children].filter(([, owner]) => owner === runId).map(([child]) => child),
      graceMs,
    );
  }

  /** Asks every remaining CLI to stop, kills the ones still there after `graceMs`, and waits for all. */
  stopAll(graceMs: number): Promise<void> {
    return this.stop([...this.children.keys()], graceMs);
  }

  private async stop(children: ChildProcessWithoutNullStreams[], graceMs: number): Promise<void> {
    const alive = children.filter((child) => child.exitCode === null && child.signalCode === null);
    await Promise.all(
      alive.map(
        (child) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
            child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
  }
}

/**
 * A daemon killed outright (SIGKILL, OOM) leaves its Claude Code processes running: one could go on
 * answering an email its run is already recorded `interrupted` for. On restart, the recorded pid is
 * killed, but only if that process still carries the run's id in its environment (pids are reused).
 * Linux only (`/proc`); elsewhere nothing is done. Returns whether a process was killed.
 */
export function killLeftoverClaude(pid: number, runIdMarker: string): boolean {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, "latin1");
  } catch {
    return false;
  }
  if (!environ.split("\u0000").includes(runIdMarker)) {
    return false;
  }
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}
