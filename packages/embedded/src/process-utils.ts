import { execFileSync } from "node:child_process";
import { accessSync, constants, readFileSync, readlinkSync } from "node:fs";
import { open } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** True while `pid` names a running process (a zombie, exited but not yet reaped, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") {
      return false;
    }
  }
  return procState(pid) !== "Z";
}

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name sits in parentheses and may itself contain spaces or parentheses.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** The process's argv (from /proc, else `ps`, which loses the word boundaries); empty when unknown. */
export function readCommandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((word) => word.length > 0);
  } catch {
    try {
      return execFileSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" })
        .trim()
        .split(/\s+/);
    } catch {
      return [];
    }
  }
}

/** The process's working directory, or undefined where /proc cannot tell. */
export function readWorkingDirectory(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) {
      return false;
    }
    await sleep(50);
  }
  return true;
}

export interface TerminationStep {
  signal: NodeJS.Signals;
  waitMs: number;
}

/** Sends each signal in turn until the process is gone; true when it went. */
export async function terminate(pid: number, steps: TerminationStep[]): Promise<boolean> {
  for (const { signal, waitMs } of steps) {
    if (!isAlive(pid)) {
      return true;
    }
    try {
      process.kill(pid, signal);
    } catch {
      return !isAlive(pid);
    }
    if (await waitForExit(pid, waitMs)) {
      return true;
    }
  }
  return !isAlive(pid);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The preferred port when it is free on 127.0.0.1, else one the kernel picks. */
export async function findFreePort(preferred = 0): Promise<number> {
  if (preferred > 0 && (await canListen(preferred))) {
    return preferred;
  }
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") {
          resolve(address.port);
        } else {
          reject(new Error("could not read the port the kernel picked"));
        }
      });
    });
  });
}

/** The last lines of a log file, for error messages; empty when it cannot be read. */
export async function tailFile(path: string, lines = 20): Promise<string> {
  try {
    const handle = await open(path, "r");
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 16_384);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString("utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } finally {
      await handle.close();
    }
  } catch {
    return "";
  }
}

/** The first executable called `name` on PATH (or in the sbin directories a non-login root PATH may lack). */
export function findOnPath(name: string): string | undefined {
  const directories = [
    ...(process.env.PATH ?? "").split(path.delimiter),
    "/usr/sbin",
    "/usr/bin",
    "/usr/local/bin",
  ];
  for (const directory of directories.filter((entry) => entry.length > 0)) {
    const candidate = path.join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

let setpriv: string | null | undefined;

/**
 * The command and arguments that run `command` so that the kernel sends it `signal` when the
 * spawning process dies (util-linux `setpriv --pdeathsig`). A parent killed with SIGKILL then
 * leaves nothing behind. Where setpriv is missing the command runs as is, and the stale-pid
 * cleanup at the next start is the safety net.
 */
export function withParentDeathSignal(
  command: string,
  args: string[],
  signal: "INT" | "TERM",
): { command: string; args: string[] } {
  if (setpriv === undefined) {
    setpriv = process.platform === "linux" ? (findOnPath("setpriv") ?? null) : null;
  }
  return setpriv
    ? { command: setpriv, args: ["--pdeathsig", signal, "--", command, ...args] }
    : { command, args };
}
