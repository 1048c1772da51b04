import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { createLogger, type Logger } from "@vps-claude/logger";
import pg from "pg";
import {
  findFreePort,
  isAlive,
  readCommandLine,
  tailFile,
  terminate,
  withParentDeathSignal,
} from "./process-utils";

const execFileAsync = promisify(execFile);

/** Where a root-run cluster goes when the `postgres` user cannot reach the requested directory. */
const RELOCATION_ROOT = "/var/lib/vps-claude";
const PASSWORD_FILE = "embedded-password";
const LOG_FILE = "embedded-postgres.log";
const READY_TIMEOUT_MS = 60_000;

export interface StartEmbeddedPostgresOptions {
  /** The cluster directory (PGDATA); created and initialised on the first start. */
  dataDir: string;
  /** Preferred port on 127.0.0.1; when it is taken (or 0) a free one is used. */
  port?: number;
  /** The application database, created when missing. */
  database?: string;
  /** false turns fsync off: for throwaway clusters such as a test run's. */
  durable?: boolean;
  logger?: Logger;
}

export interface EmbeddedPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/<database> */
  url: string;
  port: number;
  /** Where the cluster really lives: `dataDir`, or the directory it links to (see resolveClusterDir). */
  clusterDir: string;
  /** Settles when the postmaster exits, through stop() or otherwise. */
  exited: Promise<void>;
  /** Fast shutdown (SIGINT), escalating to SIGQUIT and SIGKILL if it lingers. */
  stop(): Promise<void>;
}

interface PostgresBinaries {
  initdb: string;
  postgres: string;
  /** The package's `native` folder: bin/, lib/, share/. */
  nativeDir: string;
  version: string;
}

interface OsUser {
  uid: number;
  gid: number;
}

/**
 * Starts a PostgreSQL server from the `embedded-postgres` binaries, bound to 127.0.0.1 only, and
 * returns once it accepts connections and the application database exists.
 *
 * The `embedded-postgres` class itself is not used: importing it installs SIGINT/SIGTERM/beforeExit
 * hooks that call process.exit, which would cut short the runner's ordered shutdown and end a
 * vitest main process early. Its platform package supplies the binaries; this runs them.
 */
export async function startEmbeddedPostgres(
  options: StartEmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const logger = options.logger ?? createLogger({ name: "embedded-postgres" });
  const database = options.database ?? "vps_claude";
  const osUser = await postgresOsUser(logger);
  const binaries = await reachableBinaries(await loadBinaries(), osUser, logger);
  const clusterDir = await resolveClusterDir(options.dataDir, osUser, logger);

  await stopStalePostgres(clusterDir, logger);
  await prepareClusterDir(clusterDir, osUser);
  if (!existsSync(path.join(clusterDir, "PG_VERSION"))) {
    await initCluster(binaries, clusterDir, osUser, logger);
  }
  const password = await readPassword(clusterDir);

  let port = await findFreePort(options.port ?? 0);
  for (let attempt = 1; ; attempt++) {
    const server = await launch(binaries, clusterDir, port, options.durable ?? true, osUser);
    try {
      await waitUntilAccepting(server, port, password);
    } catch (error) {
      await server.kill();
      // Another program may take the port between the check and the bind: try once more elsewhere.
      if (attempt === 1 && /already in use|could not bind/i.test(await tailFile(server.logPath, 40))) {
        port = await findFreePort(0);
        continue;
      }
      throw error;
    }
    await ensureDatabase(port, password, database);
    logger.info({ port, dataDir: clusterDir }, "embedded Postgres is ready");
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
      port,
      clusterDir,
      exited: server.exited,
      stop: server.kill,
    };
  }
}

/**
 * Stops a postmaster that an earlier run left behind in `clusterDir` (its parent was killed before
 * it could stop it) and removes a stale postmaster.pid whose process is gone or is something else.
 */
export async function stopStalePostgres(clusterDir: string, logger?: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, "postmaster.pid");
  let content: string;
  try {
    content = await readFile(pidFile, "utf8");
  } catch {
    return;
  }
  const pid = Number.parseInt(content.split("\n")[0] ?? "", 10);
  if (pid > 0 && isAlive(pid) && isPostmasterOf(pid, clusterDir)) {
    logger?.warn({ pid, dataDir: clusterDir }, "stopping a Postgres left running by an earlier run");
    const stopped = await terminate(pid, [
      { signal: "SIGINT", waitMs: 10_000 },
      { signal: "SIGQUIT", waitMs: 5_000 },
      { signal: "SIGKILL", waitMs: 2_000 },
    ]);
    if (!stopped) {
      throw new Error(`could not stop the Postgres (pid ${pid}) left running on ${clusterDir}`);
    }
  }
  await rm(pidFile, { force: true });
}

function isPostmasterOf(pid: number, clusterDir: string): boolean {
  const argv = readCommandLine(pid);
  const dataFlag = argv.indexOf("-D");
  return dataFlag >= 0 && argv[dataFlag + 1] === clusterDir;
}

async function loadBinaries(): Promise<PostgresBinaries> {
  const packageName = `@embedded-postgres/${process.platform}-${process.arch}`;
  let exported: { initdb?: unknown; postgres?: unknown };
  try {
    exported = await import(packageName);
  } catch {
    throw new Error(
      `embedded Postgres has no binaries for ${process.platform}-${process.arch} (${packageName} is not installed). ` +
        "Set DATABASE_URL to a PostgreSQL server instead.",
    );
  }
  if (typeof exported.initdb !== "string" || typeof exported.postgres !== "string") {
    throw new Error(`${packageName} does not export the initdb and postgres paths this code expects`);
  }
  const nativeDir = path.dirname(path.dirname(exported.postgres));
  const packageJson = JSON.parse(await readFile(path.join(nativeDir, "..", "package.json"), "utf8")) as {
    version: string;
  };
  await hydrateSymlinks(nativeDir);
  return { initdb: exported.initdb, postgres: exported.postgres, nativeDir, version: packageJson.version };
}

/**
 * The binaries' shared libraries are symlinks that the package's postinstall script recreates
 * from a list. When npm skips install scripts they are missing and postgres fails to load, so
 * recreate them here too.
 */
async function hydrateSymlinks(nativeDir: string): Promise<void> {
  const packageDir = path.dirname(nativeDir);
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(path.join(nativeDir, "pg-symlinks.json"), "utf8"));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const targetPath = path.join(packageDir, target);
    if (!existsSync(targetPath)) {
      const relativeSource = path.relative(path.dirname(targetPath), path.join(packageDir, source));
      await symlink(relativeSource, targetPath).catch(() => undefined);
    }
  }
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user, created if missing. */
async function postgresOsUser(logger: Logger): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) {
    return undefined;
  }
  const existing = await lookupOsUser("postgres").catch(() => undefined);
  if (existing) {
    return existing;
  }
  logger.info("creating the 'postgres' system user to run the embedded Postgres (it refuses to run as root)");
  const groupExists = await execFileAsync("getent", ["group", "postgres"]).then(
    () => true,
    () => false,
  );
  try {
    await execFileAsync("useradd", [
      "--system",
      ...(groupExists ? ["--gid", "postgres"] : ["--user-group"]),
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      "/usr/sbin/nologin",
      "postgres",
    ]);
  } catch (error) {
    throw new Error(
      `could not create the 'postgres' user (${(error as Error).message.trim()}). ` +
        "Create it (useradd --system --user-group postgres), run as a non-root user, or set DATABASE_URL.",
    );
  }
  return lookupOsUser("postgres");
}

async function lookupOsUser(name: string): Promise<OsUser> {
  const [uid, gid] = await Promise.all([
    execFileAsync("id", ["-u", name]),
    execFileAsync("id", ["-g", name]),
  ]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** True when `user` may search (traverse into) every one of `paths`. */
function canReach(user: OsUser, paths: string[]): boolean {
  const check = spawnSync(
    "/bin/sh",
    ["-c", 'for p in "$@"; do test -x "$p" || exit 1; done', "sh", ...paths],
    {
      uid: user.uid,
      gid: user.gid,
      cwd: "/",
      stdio: "ignore",
    },
  );
  return check.status === 0;
}

/**
 * A checkout under a private directory (root's home, a `mktemp -d` folder) is out of the
 * `postgres` user's reach; then the binaries are copied once to a shared place it can run them from.
 */
async function reachableBinaries(
  binaries: PostgresBinaries,
  osUser: OsUser | undefined,
  logger: Logger,
): Promise<PostgresBinaries> {
  if (!osUser || canReach(osUser, [binaries.postgres, binaries.initdb])) {
    return binaries;
  }
  const nativeDir = path.join(RELOCATION_ROOT, `embedded-postgres-${binaries.version}`);
  if (!existsSync(path.join(nativeDir, "bin", "postgres"))) {
    logger.info({ dir: nativeDir }, "copying the Postgres binaries where the 'postgres' user can run them");
    await mkdir(RELOCATION_ROOT, { recursive: true, mode: 0o755 });
    const temporary = `${nativeDir}.${process.pid}.tmp`;
    await rm(temporary, { recursive: true, force: true });
    await cp(binaries.nativeDir, temporary, { recursive: true, verbatimSymlinks: true });
    await rename(temporary, nativeDir).catch(async (error: unknown) => {
      await rm(temporary, { recursive: true, force: true });
      if (!existsSync(path.join(nativeDir, "bin", "postgres"))) {
        throw error;
      }
    });
  }
  return {
    ...binaries,
    nativeDir,
    initdb: path.join(nativeDir, "bin", "initdb"),
    postgres: path.join(nativeDir, "bin", "postgres"),
  };
}

/**
 * The directory the cluster really lives in. Normally `dataDir` itself; as root, when the
 * `postgres` user cannot reach it, a directory under /var/lib/vps-claude that `dataDir` links to.
 */
async function resolveClusterDir(
  dataDir: string,
  osUser: OsUser | undefined,
  logger: Logger,
): Promise<string> {
  const requested = path.resolve(dataDir);
  await mkdir(path.dirname(requested), { recursive: true });
  const parent = await realpath(path.dirname(requested));
  const wanted = path.join(parent, path.basename(requested));
  const existing = await lstat(wanted).catch(() => undefined);

  if (existing?.isSymbolicLink()) {
    const target = path.resolve(parent, await readlink(wanted));
    await mkdir(target, { recursive: true });
    return target;
  }
  if (!osUser || canReach(osUser, [parent])) {
    return wanted;
  }
  if (existing) {
    throw new Error(
      `the 'postgres' user cannot reach ${wanted} (a parent directory is private). ` +
        "Move the checkout somewhere other users can traverse, or set DATABASE_URL.",
    );
  }
  const key = createHash("sha256").update(wanted).digest("hex").slice(0, 16);
  const target = path.join(RELOCATION_ROOT, "postgres", key);
  // A cluster already there belonged to a data directory since deleted: start afresh, as its owner asked.
  if (existsSync(target)) {
    await stopStalePostgres(target, logger);
    await rm(target, { recursive: true, force: true });
  }
  await mkdir(target, { recursive: true });
  await symlink(target, wanted);
  logger.warn(
    { dataDir: wanted, cluster: target },
    "the 'postgres' user cannot reach the data directory (a parent is private), so the cluster lives elsewhere and the data directory links to it",
  );
  return target;
}

async function prepareClusterDir(clusterDir: string, osUser: OsUser | undefined): Promise<void> {
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (osUser) {
    await chownTree(clusterDir, osUser);
  }
  await chmod(clusterDir, 0o700);
}

async function chownTree(dir: string, owner: OsUser): Promise<void> {
  const stats = await lstat(dir);
  if (stats.uid === owner.uid && stats.gid === owner.gid) {
    return;
  }
  await chown(dir, owner.uid, owner.gid);
  if (stats.isDirectory()) {
    for (const entry of await readdir(dir)) {
      await chownTree(path.join(dir, entry), owner);
    }
  }
}

function postgresEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    LC_ALL: "C",
    ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
  };
}

async function initCluster(
  binaries: PostgresBinaries,
  clusterDir: string,
  osUser: OsUser | undefined,
  logger: Logger,
): Promise<void> {
  const leftovers = await readdir(clusterDir);
  if (leftovers.length > 0) {
    logger.warn(
      { dataDir: clusterDir },
      "clearing an uninitialised cluster directory (an interrupted first start)",
    );
    await Promise.all(
      leftovers.map((entry) => rm(path.join(clusterDir, entry), { recursive: true, force: true })),
    );
  }
  logger.info({ dataDir: clusterDir }, "initialising the embedded Postgres cluster");

  const password = randomBytes(24).toString("hex");
  const scratch = await mkdtemp(path.join(os.tmpdir(), "vps-claude-initdb-"));
  try {
    const passwordFile = path.join(scratch, "password");
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (osUser) {
      await chown(scratch, osUser.uid, osUser.gid);
      await chown(passwordFile, osUser.uid, osUser.gid);
    }
    const output: Buffer[] = [];
    const initdb = spawn(
      binaries.initdb,
      [
        `--pgdata=${clusterDir}`,
        "--username=postgres",
        `--pwfile=${passwordFile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--no-locale",
        "--no-instructions",
      ],
      { cwd: clusterDir, env: postgresEnv(), stdio: ["ignore", "pipe", "pipe"], ...osUser },
    );
    initdb.stdout.on("data", (chunk: Buffer) => output.push(chunk));
    initdb.stderr.on("data", (chunk: Buffer) => output.push(chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      initdb.once("error", reject);
      initdb.once("close", resolve);
    });
    if (code !== 0) {
      throw new Error(`initdb failed (exit ${code}):\n${Buffer.concat(output).toString("utf8").trim()}`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await writeFile(path.join(clusterDir, PASSWORD_FILE), password, { mode: 0o600 });
}

async function readPassword(clusterDir: string): Promise<string> {
  try {
    return (await readFile(path.join(clusterDir, PASSWORD_FILE), "utf8")).trim();
  } catch {
    throw new Error(
      `${path.join(clusterDir, PASSWORD_FILE)} is missing, so the embedded cluster cannot be reached. ` +
        "Delete the cluster directory to start with an empty database, or set DATABASE_URL.",
    );
  }
}

interface LaunchedServer {
  logPath: string;
  exited: Promise<void>;
  hasExited(): boolean;
  kill(): Promise<void>;
}

async function launch(
  binaries: PostgresBinaries,
  clusterDir: string,
  port: number,
  durable: boolean,
  osUser: OsUser | undefined,
): Promise<LaunchedServer> {
  const logPath = path.join(clusterDir, LOG_FILE);
  const log = await open(logPath, "w", 0o600);
  const settings = [
    "listen_addresses=127.0.0.1",
    "unix_socket_directories=",
    "max_connections=200",
    ...(durable ? [] : ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]),
  ];
  let child: ChildProcess;
  try {
    // Its own process group: a Ctrl-C at the terminal must not stop it before the services using it.
    // A fast shutdown (SIGINT) when this process dies without stopping it.
    const { command, args } = withParentDeathSignal(
      binaries.postgres,
      ["-D", clusterDir, "-p", String(port), ...settings.flatMap((setting) => ["-c", setting])],
      "INT",
    );
    child = spawn(command, args, {
      cwd: clusterDir,
      env: postgresEnv(),
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      ...osUser,
    });
  } finally {
    await log.close();
  }
  let exitedFlag = false;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exitedFlag = true;
      resolve();
    });
    child.once("error", () => {
      exitedFlag = true;
      resolve();
    });
  });
  const pid = child.pid;
  return {
    logPath,
    exited,
    hasExited: () => exitedFlag,
    kill: async () => {
      if (pid !== undefined && !exitedFlag) {
        await terminate(pid, [
          { signal: "SIGINT", waitMs: 10_000 },
          { signal: "SIGQUIT", waitMs: 5_000 },
          { signal: "SIGKILL", waitMs: 2_000 },
        ]);
      }
      await exited;
    },
  };
}

async function waitUntilAccepting(server: LaunchedServer, port: number, password: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (server.hasExited()) {
      throw new Error(`embedded Postgres exited during startup:\n${await tailFile(server.logPath)}`);
    }
    lastError = await tryConnect(connection(port, password));
    if (lastError === undefined) {
      return;
    }
    await sleep(100);
  }
  throw new Error(
    `embedded Postgres did not accept connections within ${READY_TIMEOUT_MS / 1000} s ` +
      `(${(lastError as Error).message}):\n${await tailFile(server.logPath)}`,
  );
}

/** Polls until the server at `url` accepts a connection; throws with the last error after `timeoutMs`. */
export async function waitForPostgres(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const error = await tryConnect({ connectionString: url });
    if (error === undefined) {
      return;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Postgres at ${redactUrl(url)} does not accept connections: ${(error as Error).message}`,
      );
    }
    await sleep(200);
  }
}

/** undefined when a connection could be opened, else why not. */
async function tryConnect(config: pg.ClientConfig): Promise<unknown> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      parsed.password = "***";
    }
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}

function connection(port: number, password: string, database = "postgres"): pg.ClientConfig {
  return { host: "127.0.0.1", port, user: "postgres", password, database };
}

async function ensureDatabase(port: number, password: string, database: string): Promise<void> {
  const client = new pg.Client(connection(port, password));
  client.on("error", () => undefined);
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    }
  } finally {
    await client.end();
  }
}
