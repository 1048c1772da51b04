import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type RunningWorkers, startWorkers } from "@vps-claude/api";
import { MIGRATIONS_FOLDER, migrateDatabase } from "@vps-claude/db";
import { createLogger } from "@vps-claude/logger";
import { createRedis } from "@vps-claude/redis";
import { generateEncryptionKey } from "@vps-claude/shared";
import pg from "pg";
import { createApp } from "../src/app";
import { loadConfig, type ServerConfig } from "../src/config";
import { createServerDeps, type ServerDeps } from "../src/deps";

function requireEnv(name: "DATABASE_URL" | "REDIS_URL"): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run tests through 'npm test' (its global setup provides it)`);
  }
  return value;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function migrationsHash(): string {
  const hash = createHash("sha256");
  for (const file of readdirSync(MIGRATIONS_FOLDER).sort()) {
    if (file.endsWith(".sql")) {
      hash.update(readFileSync(`${MIGRATIONS_FOLDER}/${file}`));
    }
  }
  return hash.digest("hex").slice(0, 12);
}

/**
 * A fresh, migrated database per test file, cloned from a template that is migrated once per
 * schema version (CREATE DATABASE … TEMPLATE is a file copy: far faster than migrating each time).
 */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = requireEnv("DATABASE_URL");
  const template = `vps_template_${migrationsHash()}`;
  const name = `vps_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query("select pg_advisory_lock(7311002)");
    const exists = await admin.query("select 1 from pg_database where datname = $1", [template]);
    if (exists.rowCount === 0) {
      await admin.query(`create database "${template}"`);
      await migrateDatabase(withDatabase(adminUrl, template));
    }
    await admin.query(`create database "${name}" template "${template}"`);
  } finally {
    await admin.query("select pg_advisory_unlock(7311002)").catch(() => {});
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface TestServer {
  url: string;
  publicUrl: string;
  config: ServerConfig;
  deps: ServerDeps;
  databaseUrl: string;
  queuePrefix: string;
  workers?: RunningWorkers;
  close(): Promise<void>;
}

export interface StartTestServerOptions {
  env?: Record<string, string>;
  workers?: boolean;
}

/** The real server (same createApp as production) on a random port, with its own database and queue prefix. */
export async function startTestServer({
  env = {},
  workers = false,
}: StartTestServerOptions = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const queuePrefix = `test-${randomBytes(4).toString("hex")}`;
  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: database.url,
    REDIS_URL: requireEnv("REDIS_URL"),
    QUEUE_PREFIX: queuePrefix,
    BETTER_AUTH_SECRET: randomBytes(32).toString("base64url"),
    ENCRYPTION_KEY: generateEncryptionKey(),
    PUBLIC_URL: "http://localhost:33001",
    AUTH_RATE_LIMIT: "off",
    LOG_LEVEL: "silent",
    ...env,
  });
  const logger = createLogger({ name: "test-server", level: config.LOG_LEVEL });
  const deps = createServerDeps(config, logger);
  const redis = createRedis(config.REDIS_URL, "producer");
  const app = createApp({ deps, redis });
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;

  let running: RunningWorkers | undefined;
  const workerConnection = workers ? createRedis(config.REDIS_URL, "worker") : undefined;
  if (workerConnection) {
    running = await startWorkers({ deps, connection: workerConnection, prefix: queuePrefix });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    publicUrl: config.PUBLIC_URL,
    config,
    deps,
    databaseUrl: database.url,
    queuePrefix,
    workers: running,
    async close() {
      await running?.close();
      workerConnection?.disconnect();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.queues
        .get("deployOrchestrator")
        .obliterate({ force: true })
        .catch(() => {});
      await deps.queues
        .get("deleteBox")
        .obliterate({ force: true })
        .catch(() => {});
      await deps.queues
        .get("triggerCronjob")
        .obliterate({ force: true })
        .catch(() => {});
      redis.disconnect();
      await deps.close();
      await database.drop();
    },
  };
}

/** A signed-in user as a browser would be: a cookie jar and the dashboard's Origin. */
export class TestClient {
  private cookies = new Map<string, string>();

  constructor(
    readonly server: Pick<TestServer, "url" | "publicUrl">,
    readonly extraHeaders: Record<string, string> = {},
  ) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = {
      method,
      headers: {
        origin: this.server.publicUrl,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(this.cookies.size > 0
          ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") }
          : {}),
        ...this.extraHeaders,
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    };
    const response = await fetch(`${this.server.url}${path}`, init);
    for (const header of response.headers.getSetCookie()) {
      const [pair = ""] = header.split(";");
      const index = pair.indexOf("=");
      const name = pair.slice(0, index);
      const value = pair.slice(index + 1);
      if (value === "" || /max-age=0/i.test(header)) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return {
      status: response.status,
      body: json as Record<string, unknown> & unknown[],
      headers: response.headers,
    };
  }

  get = (path: string) => this.request("GET", path);
  post = (path: string, body: unknown = {}) => this.request("POST", path, body);
  put = (path: string, body: unknown = {}) => this.request("PUT", path, body);
  delete = (path: string) => this.request("DELETE", path);

  async signUp(
    email = `user-${randomBytes(4).toString("hex")}@example.com`,
    password = "correct-horse-battery",
  ) {
    const res = await this.post("/api/auth/sign-up/email", { email, password, name: email.split("@")[0] });
    if (res.status !== 200) {
      throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return { email, password, userId: String((res.body as { user?: { id?: string } }).user?.id) };
  }
}

export async function signedInClient(server: TestServer) {
  const client = new TestClient(server);
  const user = await client.signUp();
  return { client, user };
}
