import { spawn } from "node:child_process";
import { getPriority } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { runIdHeaders } from "./claude-options";
import { CLAUDE_NICENESS, ClaudeProcesses, killLeftoverClaude } from "./claude-processes";

const children: Array<ReturnType<typeof spawn>> = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
  }
});

/** A stand-in for a Claude Code process a killed daemon left behind, with the run's id in its env. */
function leftover(runId: string) {
  const child = spawn("sleep", ["60"], {
    env: { PATH: process.env.PATH, ANTHROPIC_CUSTOM_HEADERS: runIdHeaders(runId) },
    stdio: "ignore",
  });
  children.push(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once("exit", (_code, signal) => resolve(signal)),
  );
  return { child, exited };
}

describe("killLeftoverClaude", () => {
  it("kills the process only when it carries the run's id, so a reused pid is left alone", async () => {
    const { child, exited } = leftover("run_left");
    const pid = child.pid ?? 0;
    await new Promise((resolve) => child.once("spawn", resolve));

    expect(killLeftoverClaude(pid, `ANTHROPIC_CUSTOM_HEADERS=${runIdHeaders("run_other")}`)).toBe(false);
    expect(child.exitCode).toBeNull();
    expect(killLeftoverClaude(pid, `ANTHROPIC_CUSTOM_HEADERS=${runIdHeaders("run_left")}`)).toBe(true);
    expect(await exited).toBe("SIGKILL");
    expect(killLeftoverClaude(pid, `ANTHROPIC_CUSTOM_HEADERS=${runIdHeaders("run_left")}`), "gone").toBe(
      false,
    );
  });
});

describe("ClaudeProcesses.spawn", () => {
  it("runs Claude Code, and what it starts, below box-agent's priority", async () => {
    const processes = new ClaudeProcesses();
    // Like the CLI starting its MCP servers: a child of its own, a moment after it started.
    const child = processes.spawn(
      {
        command: "sh",
        args: ["-c", "sleep 0.3; sleep 30 & echo $!; wait"],
        env: { PATH: process.env.PATH },
        signal: new AbortController().signal,
      },
      "run_nice",
      () => undefined,
    );
    const grandchild = await new Promise<number>((resolve) =>
      child.stdout.once("data", (data: Buffer) => resolve(Number(String(data).trim()))),
    );
    const expected = Math.min(getPriority() + CLAUDE_NICENESS, 19);
    expect(getPriority(child.pid ?? 0), "the CLI").toBe(expected);
    expect(getPriority(grandchild), "a process the CLI started").toBe(expected);
    await processes.stopAll(1_000);
    process.kill(grandchild, "SIGKILL");
  });
});
