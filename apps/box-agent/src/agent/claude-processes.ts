import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { SpawnedProcess, SpawnOptions } from "@anthropic-ai/claude-agent-sdk";

/**
 * Starts the Claude Code processes of runs and keeps hold of them. An aborted query's CLI is only
 * signalled by the SDK after a grace period, on timers that do not keep the daemon alive: without
 * this, a shutdown could leave a CLI finishing its turn (calling tools, creating cronjobs) on its own.
 */
export class ClaudeProcesses {
  private readonly children = new Set<ChildProcessWithoutNullStreams>();

  spawn(options: SpawnOptions, onStderr: (data: string) => void): SpawnedProcess {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
      // The SDK's forwarded signal fires only after its own graceful close had its chance.
      signal: options.signal,
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", onStderr);
    // With `signal`, Node reports the abort as an 'error' too; the SDK listens for it, and an
    // unhandled one must not take the daemon down.
    child.on("error", () => undefined);
    this.children.add(child);
    child.once("exit", () => {
      this.children.delete(child);
    });
    return child;
  }

  get count(): number {
    return this.children.size;
  }

  /** Asks every remaining CLI to stop, kills the ones still there after `graceMs`, and waits for all. */
  async stopAll(graceMs: number): Promise<void> {
    const alive = [...this.children].filter((child) => child.exitCode === null && child.signalCode === null);
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
