import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./http";

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
/** Debian's util-linux: the server dies with the test process instead of outliving a crashed run. */
const SETPRIV = "/usr/bin/setpriv";

/**
 * A redis-server of one test's own, durable across restarts (append-only file, fsync on every
 * write), which the test may stop, kill and start again without touching the machine's shared Redis.
 */
export interface PrivateRedis {
  /** `redis://127.0.0.1:<port>`, no password (it listens on loopback only). */
  url: string;
  port: number;
  /** Where its config, AOF and log live. */
  dir: string;
  /**
   * `SIGTERM`: Redis's own shutdown (it fsyncs the AOF and exits); `SIGKILL`: a crash, which with
   * `appendfsync always` still loses no acknowledged write.
   */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same port and data; resolves once it answers PING with its data loaded. */
  start(): Promise<void>;
  /** The last lines of its log, for a failure message. */
  logTail(lines?: number): Promise<string>;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

function ping(port: number, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let received = "";
    const finish = (answer: string) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => finish(received || "timeout"));
    socket.once("error", (error) => finish(error.message));
    socket.once("connect", () => socket.write("*1\r\n$4\r\nPING\r\n"));
    socket.on("data", (chunk) => {
      received += chunk.toString("utf8");
      if (received.includes("\r\n")) {
        finish(received.trim());
      }
    });
  });
}

/**
 * `redis-server` on a free 127.0.0.1 port with its data in a fresh temp dir, `--appendonly yes
 * --appendfsync always`: what a production Redis for BullMQ should be, so a restart loses nothing
 * that was acknowledged and a test can tell a lost job from a platform bug.
 */
export async function startPrivateRedis({
  label = "private",
}: {
  label?: string;
} = {}): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), `vps-${label}-redis-`));
  const port = await freePort();
  const configPath = join(dir, "redis.conf");
  const logPath = join(dir, "redis.log");
  await writeFile(
    configPath,
    [
      "bind 127.0.0.1",
      `port ${port}`,
      `dir ${JSON.stringify(dir)}`,
      "daemonize no",
      "protected-mode yes",
      'save ""',
      "appendonly yes",
      "appendfsync always",
      // BullMQ's rule: keys must never be evicted.
      "maxmemory-policy noeviction",
      `logfile ${JSON.stringify(logPath)}`,
      "",
    ].join("\n"),
  );

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const logTail = async (lines = 30) =>
    (await readFile(logPath, "utf8").catch(() => "")).trimEnd().split("\n").slice(-lines).join("\n");

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      throw new Error(`the private Redis on port ${port} is already running`);
    }
    const args = [configPath];
    const [command, commandArgs] = existsSync(SETPRIV)
      ? [SETPRIV, ["--pdeathsig", "TERM", "--", "redis-server", ...args]]
      : ["redis-server", args];
    const stderr = await open(join(dir, "stderr.log"), "a");
    try {
      child = spawn(command, commandArgs, { cwd: dir, stdio: ["ignore", "ignore", stderr.fd] });
    } finally {
      await stderr.close();
    }
    const running = child;
    exited = new Promise<void>((resolve) => {
      running.once("exit", () => resolve());
      running.once("error", () => resolve());
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (running.exitCode !== null || running.signalCode !== null) {
        throw new Error(`redis-server exited while starting on port ${port}:\n${await logTail()}`);
      }
      // `-LOADING` while it replays the AOF: not ready yet.
      if ((await ping(port)) === "+PONG") {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms:\n${await logTail()}`,
        );
      }
      await sleep(50);
    }
  };

  const stop = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) {
      return;
    }
    running.kill(signal);
    const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!stopped) {
      running.kill("SIGKILL");
      await exited;
    }
  };

  try {
    await start();
  } catch (error) {
    await stop("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let closed = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    start,
    logTail,
    async close() {
      if (closed) {
        return;
      }
      closed = true;
      await stop("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    },
  };
}
