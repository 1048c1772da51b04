import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createLogger } from "@vps-claude/logger";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type EmbeddedPostgres, startEmbeddedPostgres, waitForPostgres } from "./postgres";
import { findFreePort, isAlive } from "./process-utils";

const logger = createLogger({ name: "postgres-test", level: "silent" });
let dir: string;
const started: EmbeddedPostgres[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "postgres-test-"));
  await chmod(dir, 0o755);
});
afterAll(async () => {
  await Promise.all(started.map((postgres) => postgres.stop()));
  await Promise.all(started.map((postgres) => rm(postgres.clusterDir, { recursive: true, force: true })));
  await rm(dir, { recursive: true, force: true });
});

async function start(dataDir: string, port?: number): Promise<EmbeddedPostgres> {
  const postgres = await startEmbeddedPostgres({ dataDir, port, database: "app", durable: false, logger });
  started.push(postgres);
  return postgres;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function postmasterPid(postgres: EmbeddedPostgres): Promise<number> {
  const content = await readFile(path.join(postgres.clusterDir, "postmaster.pid"), "utf8");
  return Number.parseInt(content.split("\n")[0] ?? "", 10);
}

describe("startEmbeddedPostgres", () => {
  test("initialises a cluster, creates the database, listens on 127.0.0.1 only, and keeps data across a crash", async () => {
    const dataDir = path.join(dir, "main");
    const first = await start(dataDir);
    expect(new URL(first.url).pathname).toBe("/app");
    const [settings] = await query<{ listen: string; sockets: string }>(
      first.url,
      "SELECT current_setting('listen_addresses') AS listen, current_setting('unix_socket_directories') AS sockets",
    );
    expect(settings).toEqual({ listen: "127.0.0.1", sockets: "" });
    await query(first.url, "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')");

    // An earlier run that never stopped its server (its parent was killed): the next start takes over.
    const abandoned = await postmasterPid(first);
    const second = await start(dataDir);
    expect(isAlive(abandoned)).toBe(false);
    expect(await postmasterPid(second)).not.toBe(abandoned);
    expect(await query(second.url, "SELECT value FROM kept")).toEqual([{ value: "still here" }]);
    await second.stop();
    await expect(waitForPostgres(second.url, 300)).rejects.toThrow(/does not accept connections/);
  });

  test("ignores a stale postmaster.pid naming another live process, and moves off a taken port", async () => {
    const dataDir = path.join(dir, "stale");
    const first = await start(dataDir);
    await first.stop();
    await writeFile(path.join(first.clusterDir, "postmaster.pid"), `${process.pid}\n${first.clusterDir}\n`);

    const blocker = net.createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const postgres = await start(dataDir, taken);
      expect(postgres.port).not.toBe(taken);
      expect(await query(postgres.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
      expect(isAlive(process.pid)).toBe(true);
    } finally {
      blocker.close();
    }
  });

  test.runIf(process.getuid?.() === 0)(
    "as root, keeps a cluster the postgres user cannot reach under /var/lib/vps-claude, linked from the data directory",
    async () => {
      const privateDir = await mkdtemp(path.join(os.tmpdir(), "postgres-private-"));
      try {
        const postgres = await start(path.join(privateDir, "postgres"));
        expect(postgres.clusterDir.startsWith("/var/lib/vps-claude/postgres/")).toBe(true);
        expect(await query(postgres.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
      } finally {
        await rm(privateDir, { recursive: true, force: true });
      }
    },
  );

  test("findFreePort keeps a free preferred port", async () => {
    const free = await findFreePort(0);
    expect(await findFreePort(free)).toBe(free);
  });
});
