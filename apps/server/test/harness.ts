import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { type RunningWorkers, startWorkers } from "@vps-claude/api";
import { MIGRATIONS_FOLDER, migrateDatabase } from "@vps-claude/db";
import { createLogger } from "@vps-claude/logger";
import { QUEUES } from "@vps-claude/queue";
import { createRedis } from "@vps-claude/redis";
import { generateEncryptionKey } from "@vps-claude/shared";
import { createSpritesLocal, type SpritesLocal } from "@vps-claude/sprites-local";
import { type FakeDns, startFakeDns } from "@vps-claude/testing";
import pg from "pg";
import { bundleBoxAgent } from "../../box-agent/scripts/bundle";
import { createApp } from "../src/app";
import { loadConfig, type ServerConfig } from "../src/config";
import { createServerDeps, type ServerDeps } from "../src/deps";
import { startSmtpListener } from "../src/smtp";

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

const REPO_NODE_MODULES = fileURLToPath(new URL("../../../node_modules", import.meta.url));

let bundle: Promise<string> | undefined;
/** One box-agent bundle per test process, built into its own temp dir (test files run in parallel). */
export function testBoxAgentBundle(): Promise<string> {
  bundle ??= mkdtemp(join(tmpdir(), "box-agent-bundle-")).then((dir) =>
    bundleBoxAgent(join(dir, "box-agent.mjs")),
  );
  return bundle;
}

export interface TestServer {
  url: string;
  publicUrl: string;
  config: ServerConfig;
  deps: ServerDeps;
  databaseUrl: string;
  queuePrefix: string;
  workers?: RunningWorkers;
  spritesLocal?: SpritesLocal;
  dataDir: string;
  smtpPort?: number;
  /** With `smtp`: the DNS the listener's SPF/DKIM/DMARC checks resolve through (unless env sets DNS_SERVERS). */
  dns?: FakeDns;
  close(): Promise<void>;
}

export interface StartTestServerOptions {
  env?: Record<string, string>;
  workers?: boolean;
  /** Start a sprites-local host for this server (deploys then really create sandboxes). */
  sprites?: boolean;
  /** Extra environment for box-agent inside sandboxes. */
  boxAgentEnv?: Record<string, string>;
  /** Sprite idle time before sleeping, for sleep/wake tests. */
  spriteIdleMs?: number;
  /** Start the inbound SMTP listener on a free port. */
  smtp?: boolean;
}

/** The real server (same createApp as production) on a random port, with its own database and queue prefix. */
export async function startTestServer({
  env = {},
  workers = false,
  sprites = false,
  boxAgentEnv,
  spriteIdleMs,
  smtp = false,
}: StartTestServerOptions = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const queuePrefix = `test-${randomBytes(4).toString("hex")}`;
  const dataDir = await mkdtemp(join(tmpdir(), "vps-test-data-"));
  const spritesToken = randomBytes(16).toString("hex");
  const spritesLocal = sprites
    ? await createSpritesLocal({
        dataDir: join(dataDir, "sprites"),
        token: spritesToken,
        port: 0,
        proxyPort: 0,
        idleMs: spriteIdleMs ?? 60_000,
        readOnlyBinds: [REPO_NODE_MODULES],
      })
    : undefined;
  // Listen first: boxes need the server's real URL (SERVER_URL) in their config.
  // The node-server bindings travel with the request: the app reads the client's socket address from them.
  let handle: (request: Request, env: unknown) => Response | Promise<Response> = () =>
    new Response("starting", { status: 503 });
  const server = serve({ fetch: (request, env) => handle(request, env), port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  // The one host service a sprite reaches from its own network namespace.
  await spritesLocal?.setPlatformUrl(`http://127.0.0.1:${port}`);
  // Sender checks resolve DNS; in tests only ever against a fake on loopback.
  const fakeDns = smtp && !env.DNS_SERVERS ? await startFakeDns() : undefined;
  const config = loadConfig({
    SERVER_URL: `http://127.0.0.1:${port}`,
    NODE_ENV: "test",
    DATABASE_URL: database.url,
    REDIS_URL: requireEnv("REDIS_URL"),
    QUEUE_PREFIX: queuePrefix,
    BETTER_AUTH_SECRET: randomBytes(32).toString("base64url"),
    ENCRYPTION_KEY: generateEncryptionKey(),
    PUBLIC_URL: "http://localhost:33001",
    AUTH_RATE_LIMIT: "off",
    LOG_LEVEL: "silent",
    DATA_DIR: dataDir,
    SMTP_ENABLED: "off",
    SPRITE_NAME_PREFIX: `t${randomBytes(2).toString("hex")}-`,
    DEPLOY_HEALTH_TIMEOUT_MS: "30000",
    ...(spritesLocal
      ? {
          SPRITES_API_URL: spritesLocal.url,
          SPRITES_LOCAL_TOKEN: spritesToken,
          BOX_AGENT_BUNDLE: await testBoxAgentBundle(),
        }
      : { SPRITES_API_URL: "http://127.0.0.1:9", SPRITES_LOCAL_TOKEN: spritesToken }),
    ...(fakeDns ? { DNS_SERVERS: fakeDns.server } : {}),
    ...env,
  });
  const logger = createLogger({ name: "test-server", level: config.LOG_LEVEL });
  const deps = createServerDeps(config, logger);
  if (boxAgentEnv) {
    deps.runtime.boxAgentEnv = boxAgentEnv;
  }
  const redis = createRedis(config.REDIS_URL, "producer");
  const app = createApp({ deps, redis, edge: config });
  handle = app.fetch;

  const smtpListener = smtp
    ? await startSmtpListener({
        deps,
        host: "127.0.0.1",
        port: 0,
        maxBytes: config.EMAIL_MAX_BYTES,
        maxClients: config.SMTP_MAX_CLIENTS,
        connectionsPerMinute: config.SMTP_CONNECTIONS_PER_MINUTE,
        dnsServers: config.DNS_SERVERS,
        logger,
      })
    : undefined;

  let running: RunningWorkers | undefined;
  const workerConnection = workers ? createRedis(config.REDIS_URL, "worker") : undefined;
  if (workerConnection) {
    running = await startWorkers({
      deps,
      connection: workerConnection,
      prefix: queuePrefix,
      runtime: deps.runtime,
    });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    publicUrl: config.PUBLIC_URL,
    config,
    deps,
    databaseUrl: database.url,
    queuePrefix,
    workers: running,
    spritesLocal,
    dataDir,
    smtpPort: smtpListener?.port,
    dns: fakeDns,
    async close() {
      await smtpListener?.close();
      await fakeDns?.close();
      await running?.close();
      workerConnection?.disconnect();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
      await Promise.all(
        Object.keys(QUEUES).map((key) =>
          deps.queues
            .get(key as keyof typeof QUEUES)
            .obliterate({ force: true })
            .catch(() => {}),
        ),
      );
      redis.disconnect();
      await deps.close();
      await spritesLocal?.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
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

/** Polls until `check` returns a value `accept` likes (for hooks, where expect.poll is not allowed). */
export async function waitFor<T>(
  check: () => Promise<T>,
  accept: (value: T) => boolean,
  {
    timeout = 60_000,
    interval = 200,
    what = "condition",
  }: { timeout?: number; interval?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: T = await check();
  while (!accept(last)) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeout} ms waiting for ${what}; last value: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
    last = await check();
  }
  return last;
}
