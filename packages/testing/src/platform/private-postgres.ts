import { execFile } from "node:child_process";
import { chown, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./http";

const run = promisify(execFile);

/** Debian's layout: one directory per major version, each with its own bin/. */
const POSTGRES_LIB = "/usr/lib/postgresql";
/** Postgres refuses to run as root; as root, the cluster runs as this user (Debian's package makes it). */
const POSTGRES_USER = "postgres";

/**
 * A Postgres cluster of one test's own, which the test may stop and restart at will without touching
 * the machine's shared server (other tests use that one at the same time).
 */
export interface PrivatePostgres {
  /** An admin URL (superuser `postgres`, trust auth on 127.0.0.1) for its `postgres` database. */
  url: string;
  port: number;
  /** Stops the server (`fast`: connections are cut, a checkpoint is written; `immediate`: like a crash). */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** `pg_ctl restart -m fast`: every connection is cut and the server comes back. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

async function postgresBinDir(): Promise<string> {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) {
    return fromEnv;
  }
  const versions = (await readdir(POSTGRES_LIB).catch(() => [] as string[]))
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  if (!newest) {
    throw new Error(
      `no Postgres server binaries under ${POSTGRES_LIB}: install Debian's postgresql package, or set PG_BIN to a directory with initdb and pg_ctl`,
    );
  }
  return join(POSTGRES_LIB, newest, "bin");
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run("id", ["-u", name]), run("id", ["-g", name])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * initdb in a fresh temp dir and a server on a free 127.0.0.1 port, run as `postgres` when this
 * process is root. Durability is traded for speed (fsync off): the restarts a test makes are clean
 * (`fast`) or it accepts what a crash leaves.
 */
export async function startPrivatePostgres({
  label = "private",
}: {
  label?: string;
} = {}): Promise<PrivatePostgres> {
  const bin = await postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), `vps-${label}-pg-`));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = await userIds(POSTGRES_USER).catch(() => {
      throw new Error(`running as root, Postgres needs the '${POSTGRES_USER}' user to run as; none exists`);
    });
    await chown(dir, uid, gid);
  }
  const pg = (tool: string, args: string[]) => {
    const command = join(bin, tool);
    return asRoot
      ? run("runuser", ["-u", POSTGRES_USER, "--", command, ...args], { cwd: dir })
      : run(command, args, { cwd: dir });
  };
  const dataDir = join(dir, "data");
  const logFile = join(dir, "postgres.log");
  const port = await freePort();
  const serverOptions = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
  ].join(" ");
  const describeFailure = async (what: string, error: unknown) => {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    const log = await run("tail", ["-n", "30", logFile]).then(
      (out) => out.stdout,
      () => "",
    );
    return new Error(
      `${what} failed: ${error instanceof Error ? error.message : String(error)}\n${stderr}\n${log}`,
    );
  };
  const control = async (what: string, args: string[]) => {
    try {
      await pg("pg_ctl", args);
    } catch (error) {
      throw await describeFailure(what, error);
    }
  };
  const start = () =>
    control("starting the private Postgres", [
      "-D",
      dataDir,
      "-l",
      logFile,
      "-w",
      "-t",
      "60",
      "-o",
      serverOptions,
      "start",
    ]);
  const stop = (mode: "fast" | "immediate" = "fast") =>
    control("stopping the private Postgres", ["-D", dataDir, "-m", mode, "-w", "-t", "60", "stop"]);

  try {
    await pg("initdb", ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw await describeFailure("initdb", error);
  }
  try {
    await start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let closed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    restart: () =>
      control("restarting the private Postgres", [
        "-D",
        dataDir,
        "-l",
        logFile,
        "-m",
        "fast",
        "-w",
        "-t",
        "60",
        "restart",
      ]),
    async close() {
      if (closed) {
        return;
      }
      closed = true;
      await pg("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "-t", "30", "stop"]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
