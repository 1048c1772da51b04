import { type ChildProcess, spawn } from "node:child_process";
import { constants as osConstants } from "node:os";
import { ApiError } from "./errors.js";
import type { ManagedSprite } from "./managed-sprite.js";
import { firstChildPid, signalTree } from "./process-tree.js";
import { exitCodeOf } from "./services.js";

/** Stream ids of the exec binary protocol (first byte of every non-TTY frame). */
export const StreamId = { stdin: 0, stdout: 1, stderr: 2, exit: 3, stdinEof: 4 } as const;

export interface ExecParams {
  file: string;
  argv: string[];
  /** Replaces the whole environment when given (`env=K=V` query parameters), as on Fly. */
  env: Record<string, string> | null;
  dir: string | null;
  tty: boolean;
  rows: number;
  cols: number;
  stdin: boolean;
}

function positiveInt(value: string | null, fallback: number): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 && parsed < 10_000 ? parsed : fallback;
}

export function parseExecParams(url: URL): ExecParams {
  const argv = url.searchParams.getAll("cmd");
  const file = url.searchParams.get("path") || argv[0];
  if (argv.length === 0 || !file) {
    throw new ApiError(
      "invalid_request",
      "exec needs at least one `cmd` query parameter (the program to run)",
    );
  }
  const envPairs = url.searchParams.getAll("env");
  let env: Record<string, string> | null = null;
  if (envPairs.length > 0) {
    env = {};
    for (const pair of envPairs) {
      const eq = pair.indexOf("=");
      if (eq <= 0) {
        throw new ApiError("invalid_request", `env entry '${pair.split("=")[0]}' must look like KEY=VALUE`);
      }
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return {
    file,
    argv,
    env,
    dir: url.searchParams.get("dir") || null,
    tty: url.searchParams.get("tty") === "true",
    rows: positiveInt(url.searchParams.get("rows"), 24),
    cols: positiveInt(url.searchParams.get("cols"), 80),
    stdin: url.searchParams.get("stdin") === "true",
  };
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function normalizeSignal(name: unknown): NodeJS.Signals | null {
  if (typeof name !== "string" || name.length === 0) {
    return null;
  }
  const upper = name.toUpperCase();
  const full = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  return full in osConstants.signals ? (full as NodeJS.Signals) : null;
}

/** One running command. Output goes to the callbacks; `exited` resolves with the exit code once output is drained. */
export class ExecSession {
  readonly child: ChildProcess;
  readonly exited: Promise<number>;
  private readonly sprite: ManagedSprite;
  private readonly tty: boolean;

  constructor(
    sprite: ManagedSprite,
    params: ExecParams,
    onOutput: (stream: typeof StreamId.stdout | typeof StreamId.stderr, data: Buffer) => void,
  ) {
    this.sprite = sprite;
    this.tty = params.tty;
    const env = params.env ?? sprite.baseEnv();
    let argv = [params.file, ...params.argv.slice(1)];
    if (params.tty) {
      // No pty support in Node itself: util-linux `script` allocates one inside the sandbox.
      env.TERM ??= "xterm-256color";
      const commandLine = `stty rows ${params.rows} cols ${params.cols} 2>/dev/null; exec ${argv.map(shellQuote).join(" ")}`;
      argv = ["script", "-qfec", commandLine, "/dev/null"];
    }
    this.child = sprite.spawn({ argv, env, cwd: sprite.resolveDir(params.dir) });
    const child = this.child;
    child.stdout?.on("data", (chunk: Buffer) => onOutput(StreamId.stdout, chunk));
    child.stderr?.on("data", (chunk: Buffer) => onOutput(StreamId.stderr, chunk));
    child.stdin?.on("error", () => {
      // The command closed its stdin early; further input is dropped, as with a closed pipe.
    });
    if (!params.stdin) {
      child.stdin?.end();
    }
    this.exited = new Promise<number>((resolve) => {
      let done = false;
      child.once("close", (code, signal) => {
        if (!done) {
          done = true;
          resolve(exitCodeOf(code, signal));
        }
      });
      child.once("error", (error) => {
        if (!done) {
          done = true;
          onOutput(StreamId.stderr, Buffer.from(`${params.file}: ${error.message}\n`));
          resolve(127);
        }
      });
    });
  }

  writeStdin(data: Buffer): void {
    if (this.child.stdin && !this.child.stdin.writableEnded) {
      this.child.stdin.write(data);
    }
  }

  endStdin(): void {
    this.child.stdin?.end();
  }

  /** Delivers to the command itself; right after start it may not exist yet under bwrap, so look again briefly. */
  signal(signal: NodeJS.Signals, attempt = 0): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return;
    }
    const pid = this.sprite.sandbox.commandPid(this.child);
    if (pid === null) {
      if (attempt < 100) {
        setTimeout(() => this.signal(signal, attempt + 1), 20).unref();
      }
      return;
    }
    try {
      process.kill(pid, signal);
    } catch {
      // Already exited.
    }
  }

  /** TTY only: sets the pty size on the shell's terminal; the kernel then sends SIGWINCH. */
  resize(cols: number, rows: number): void {
    if (!this.tty) {
      return;
    }
    const scriptPid = this.sprite.sandbox.commandPid(this.child);
    const shellPid = scriptPid === null ? null : firstChildPid(scriptPid);
    if (shellPid === null) {
      return;
    }
    const stty = spawn("stty", ["-F", `/proc/${shellPid}/fd/0`, "rows", String(rows), "cols", String(cols)], {
      stdio: "ignore",
    });
    stty.on("error", () => {
      // Best effort: a failed resize leaves the old size.
    });
  }

  kill(): void {
    if (this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      signalTree(this.child.pid, "SIGKILL");
    }
  }
}
