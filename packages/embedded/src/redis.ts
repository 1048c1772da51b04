import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, realpath, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { createLogger, type Logger } from "@vps-claude/logger";
import {
  findFreePort,
  findOnPath,
  isAlive,
  readCommandLine,
  readWorkingDirectory,
  tailFile,
  terminate,
  withParentDeathSignal,
} from "./process-utils";

const execFileAsync = promisify(execFile);

const PID_FILE = "redis-server.pid";
const CONFIG_FILE = "redis.conf";
const LOG_FILE = "redis.log";
const READY_TIMEOUT_MS = 20_000;

export interface StartEmbeddedRedisOptions {
  /** Working directory of the server (config, log, pid file); Redis itself keeps nothing on disk. */
  dataDir: string;
  /** Preferred port on 127.0.0.1; when it is taken (or 0) a free one is used. */
  port?: number;
  logger?: Logger;
}

export interface EmbeddedRedis {
  /** redis://:<password>@127.0.0.1:<port> */
  url: string;
  port: number;
  /** Settles when the server exits, through stop() or otherwise. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs `redis-server` as a child process bound to 127.0.0.1 with persistence off and a password
 * generated for this start, and returns once it answers PING. Installs Debian's redis-server when
 * the binary is missing and this process may (root with apt-get).
 */
export async function startEmbeddedRedis(options: StartEmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const logger = options.logger ?? createLogger({ name: "embedded-redis" });
  const binary = await ensureRedisServer(logger);
  const dataDir = path.resolve(options.dataDir);
  // Only the leaf is private: a parent made 0700 here would shut the `postgres` user out of a sibling cluster.
  await mkdir(path.dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await stopStaleRedis(dataDir, logger);

  const password = randomBytes(24).toString("hex");
  let port = await findFreePort(options.port ?? 0);
  for (let attempt = 1; ; attempt++) {
    const server = await launch(binary, dataDir, port, password);
    try {
      await waitUntilPong(server, redisUrl(port, password));
    } catch (error) {
      await server.kill();
      // Another program may take the port between the check and the bind: try once more elsewhere.
      if (attempt === 1 && /already in use/i.test(await tailFile(server.logPath, 40))) {
        port = await findFreePort(0);
        continue;
      }
      throw error;
    }
    logger.info({ port }, "embedded Redis is ready");
    return { url: redisUrl(port, password), port, exited: server.exited, stop: server.kill };
  }
}

/** Stops a redis-server that an earlier run started in `dataDir` and could not stop (it was killed). */
export async function stopStaleRedis(dataDir: string, logger?: Logger): Promise<void> {
  const pidFile = path.join(dataDir, PID_FILE);
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(pidFile, "utf8"), 10);
  } catch {
    return;
  }
  if (pid > 0 && isAlive(pid) && (await isRedisOf(pid, dataDir))) {
    logger?.warn({ pid, dataDir }, "stopping a Redis left running by an earlier run");
    const stopped = await terminate(pid, [
      { signal: "SIGTERM", waitMs: 5_000 },
      { signal: "SIGKILL", waitMs: 2_000 },
    ]);
    if (!stopped) {
      throw new Error(`could not stop the Redis (pid ${pid}) left running in ${dataDir}`);
    }
  }
  await rm(pidFile, { force: true });
}

/** redis-server rewrites its command line to "redis-server host:port"; its working directory names the run. */
async function isRedisOf(pid: number, dataDir: string): Promise<boolean> {
  const program = path.basename(readCommandLine(pid).join(" ").split(" ")[0] ?? "");
  const cwd = readWorkingDirectory(pid);
  return program === "redis-server" && cwd !== undefined && cwd === (await realpath(dataDir));
}

async function ensureRedisServer(logger: Logger): Promise<string> {
  const found = findOnPath("redis-server");
  if (found) {
    return found;
  }
  const aptGet = findOnPath("apt-get");
  if (process.getuid?.() !== 0 || !aptGet) {
    throw new Error(
      "redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install redis-server; " +
        "macOS: brew install redis) or set REDIS_URL to a Redis you run.",
    );
  }
  logger.info("redis-server is not installed; installing Debian's redis-server with apt-get (about 15 s)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    execFileAsync(aptGet, ["install", "-y", "-q", "redis-server"], { env, maxBuffer: 32 * 1024 * 1024 });
  try {
    await install().catch(async () => {
      await execFileAsync(aptGet, ["update", "-q"], { env, maxBuffer: 32 * 1024 * 1024 });
      await install();
    });
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ""}${(error as { stderr?: string }).stderr ?? ""}`;
    throw new Error(
      `installing redis-server with apt-get failed; install it yourself or set REDIS_URL.\n${output.trim().split("\n").slice(-15).join("\n")}`,
    );
  }
  const installed = findOnPath("redis-server");
  if (!installed) {
    throw new Error(
      "apt-get installed redis-server but no redis-server binary is on PATH; set REDIS_URL instead",
    );
  }
  return installed;
}

interface LaunchedServer {
  logPath: string;
  exited: Promise<void>;
  hasExited(): boolean;
  kill(): Promise<void>;
}

async function launch(
  binary: string,
  dataDir: string,
  port: number,
  password: string,
): Promise<LaunchedServer> {
  const configPath = path.join(dataDir, CONFIG_FILE);
  // The password goes in an owner-only file, not on the command line where `ps` would show it.
  await writeFile(
    configPath,
    [
      "bind 127.0.0.1",
      `port ${port}`,
      'save ""',
      "appendonly no",
      `dir ${JSON.stringify(dataDir)}`,
      "daemonize no",
      "protected-mode yes",
      'logfile ""',
      `requirepass ${password}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  const logPath = path.join(dataDir, LOG_FILE);
  const log = await open(logPath, "w", 0o600);
  let child: ChildProcess;
  try {
    // Its own process group: a Ctrl-C at the terminal must not stop it before the services using it.
    const { command, args } = withParentDeathSignal(binary, [configPath], "TERM");
    child = spawn(command, args, { cwd: dataDir, detached: true, stdio: ["ignore", log.fd, log.fd] });
  } finally {
    await log.close();
  }
  let exitedFlag = false;
  const exited = new Promise<void>((resolve) => {
    const settle = () => {
      exitedFlag = true;
      resolve();
    };
    child.once("exit", settle);
    child.once("error", settle);
  });
  const pid = child.pid;
  if (pid !== undefined) {
    await writeFile(path.join(dataDir, PID_FILE), `${pid}\n`);
  }
  return {
    logPath,
    exited,
    hasExited: () => exitedFlag,
    kill: async () => {
      if (pid !== undefined && !exitedFlag) {
        await terminate(pid, [
          { signal: "SIGTERM", waitMs: 5_000 },
          { signal: "SIGKILL", waitMs: 2_000 },
        ]);
      }
      await exited;
      await rm(path.join(dataDir, PID_FILE), { force: true });
    },
  };
}

function redisUrl(port: number, password: string): string {
  return `redis://:${password}@127.0.0.1:${port}`;
}

async function waitUntilPong(server: LaunchedServer, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.hasExited()) {
      throw new Error(`redis-server exited during startup:\n${await tailFile(server.logPath)}`);
    }
    if (await pingRedis(url)) {
      return;
    }
    await sleep(50);
  }
  throw new Error(
    `redis-server did not answer PING within ${READY_TIMEOUT_MS / 1000} s:\n${await tailFile(server.logPath)}`,
  );
}

/** AUTH (when the URL has a password) then PING in raw RESP; true when Redis answers +PONG. */
export function pingRedis(url: string, timeoutMs = 1_000): Promise<boolean> {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  const username = decodeURIComponent(parsed.username);
  const host = parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
  const port = Number(parsed.port || 6379);
  const auth = password ? (username ? ["AUTH", username, password] : ["AUTH", password]) : undefined;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let received = "";
    const expected = auth ? "+OK\r\n+PONG\r\n" : "+PONG\r\n";
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("connect", () => {
      socket.write(`${auth ? command(auth) : ""}${command(["PING"])}`);
    });
    socket.on("data", (chunk) => {
      received += chunk.toString("utf8");
      if (received.length >= expected.length || received.startsWith("-") || received.includes("\r\n-")) {
        finish(received.startsWith(expected));
      }
    });
  });
}

function command(words: string[]): string {
  return `*${words.length}\r\n${words.map((word) => `$${Buffer.byteLength(word)}\r\n${word}\r\n`).join("")}`;
}
