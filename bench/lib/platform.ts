import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { type RunningWorkers, startWorkers } from "@vps-claude/api";
import { createLogger } from "@vps-claude/logger";
import { createRedis, waitForRedis } from "@vps-claude/redis";
import { generateEncryptionKey } from "@vps-claude/shared";
import { bundleBoxAgent } from "../../apps/box-agent/scripts/bundle";
import { createApp } from "../../apps/server/src/app";
import { loadConfig, type ServerConfig } from "../../apps/server/src/config";
import { createServerDeps, type ServerDeps } from "../../apps/server/src/deps";
import type { CleanupStack } from "./cleanup";
import { log } from "./env";
import { createScratchDatabase } from "./postgres";
import { killProcessesMentioning } from "./process-memory";
import { deleteKeysWithPrefix } from "./redis";
import { type SpritesLocalProcess, startSpritesLocalProcess } from "./sprites-local-process";

const REPO_NODE_MODULES = fileURLToPath(new URL("../../node_modules", import.meta.url));

export interface PlatformOptions {
  /** `DATABASE_URL`: the scratch database is created beside the one it names. */
  adminUrl: string;
  redisUrl: string;
  /** Names the scratch database, temp dir and queue prefix (`bench_<label>_…`). */
  label: string;
  cleanup: CleanupStack;
  /** Extra server configuration (fake Anthropic / Resend URLs, secrets). */
  env?: Record<string, string>;
  /** Extra environment for box-agent inside every sandbox. */
  boxAgentEnv?: Record<string, string>;
  /** Idle time before a sprite is frozen; long by default so sleep never interferes with a run. */
  spriteIdleMs?: number;
}

export interface Platform {
  url: string;
  publicUrl: string;
  config: ServerConfig;
  deps: ServerDeps;
  queuePrefix: string;
  spritesLocal: SpritesLocalProcess;
  /** The built box-agent bundle (also runnable as `node <bundle> mcp` outside a box). */
  boxAgentBundle: string;
  /** A sprite's home directory on this machine's filesystem (sprites-local keeps it at `<dataDir>/<name>/home`). */
  spriteHomeOnHost(spriteName: string): string;
  /** Starts the BullMQ workers (deploys, email delivery, …) with `deps.runtime` as it is now. */
  startWorkers(): Promise<RunningWorkers>;
}

/**
 * The whole platform in this process, wired as `npm start` wires it but on 127.0.0.1 and free ports:
 * a scratch database, its own queue prefix, a sprites-local host whose sandboxes read the repo's
 * node_modules, the real server (createServerDeps + createApp) and, on demand, the workers. Each
 * piece is registered on `cleanup` as soon as it exists, so a failure half-way leaves nothing behind.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { cleanup } = options;
  const database = await createScratchDatabase(options.adminUrl, `bench_${options.label}`);
  cleanup.push(`drop database ${database.name}`, database.drop);
  log(`database ${database.name} created and migrated`);

  const workDir = await mkdtemp(join(tmpdir(), `bench-${options.label}-`));
  cleanup.push(`remove ${workDir}`, () => rm(workDir, { recursive: true, force: true }));
  const spritesDataDir = join(workDir, "sprites");
  const dataDir = join(workDir, "data");
  await mkdir(dataDir, { recursive: true });

  const queuePrefix = `bench-${options.label}-${randomBytes(4).toString("hex")}`;
  const keysRedis = createRedis(options.redisUrl, "producer");
  cleanup.push(`delete Redis keys ${queuePrefix}:*`, async () => {
    try {
      const deleted = await deleteKeysWithPrefix(keysRedis, queuePrefix);
      log(`deleted ${deleted} Redis keys under ${queuePrefix}:`);
    } finally {
      keysRedis.disconnect();
    }
  });
  await waitForRedis(keysRedis);

  const boxAgentBundle = await bundleBoxAgent(join(workDir, "box-agent", "box-agent.mjs"));
  const spritesToken = randomBytes(16).toString("hex");
  const spriteNamePrefix = `b${randomBytes(2).toString("hex")}-`;
  // Listen first: boxes need the server's real URL (SERVER_URL) in their config, and sprites-local forwards it into every box's network namespace.
  let handle: (request: Request) => Response | Promise<Response> = () =>
    new Response("starting", { status: 503 });
  const server = serve({ fetch: (request) => handle(request), port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  const spritesLocal = await startSpritesLocalProcess({
    platformUrl: `http://127.0.0.1:${port}`,
    dataDir: spritesDataDir,
    token: spritesToken,
    idleMs: options.spriteIdleMs ?? 30 * 60_000,
    readOnlyBinds: [REPO_NODE_MODULES],
  });
  log(`sprites-local on ${spritesLocal.url} (sandbox mode ${spritesLocal.sandboxMode})`);
  cleanup.push("stop sprites-local and its sandboxes", async () => {
    await spritesLocal.close();
    // Closing stops every sandbox; anything still running from the data dir is a leak we end here.
    const killed = killProcessesMentioning(spritesDataDir);
    if (killed > 0) {
      log(`killed ${killed} leftover sandbox processes`);
    }
  });

  let opened: { deps: ServerDeps; healthRedis: ReturnType<typeof createRedis> } | undefined;
  cleanup.push("stop the server", async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      if ("closeAllConnections" in server) {
        server.closeAllConnections();
      }
    });
    opened?.healthRedis.disconnect();
    await opened?.deps.close();
  });
  const config = loadConfig({
    // Not production: its secure cookies would not come back over plain http to 127.0.0.1.
    NODE_ENV: "development",
    SERVER_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: database.url,
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: queuePrefix,
    BETTER_AUTH_SECRET: randomBytes(32).toString("base64url"),
    ENCRYPTION_KEY: generateEncryptionKey(),
    PUBLIC_URL: "http://localhost:33001",
    AUTH_RATE_LIMIT: "off",
    LOG_LEVEL: "warn",
    DATA_DIR: dataDir,
    SMTP_ENABLED: "off",
    SPRITES_API_URL: spritesLocal.url,
    SPRITES_LOCAL_TOKEN: spritesToken,
    SPRITE_NAME_PREFIX: spriteNamePrefix,
    BOX_AGENT_BUNDLE: boxAgentBundle,
    ...options.env,
  });
  const logger = createLogger({
    name: `bench-${options.label}`,
    level: config.LOG_LEVEL,
    destination: process.stderr,
  });
  const deps = createServerDeps(config, logger);
  if (options.boxAgentEnv) {
    deps.runtime.boxAgentEnv = options.boxAgentEnv;
  }

  const healthRedis = createRedis(config.REDIS_URL, "producer");
  opened = { deps, healthRedis };
  handle = createApp({ deps, redis: healthRedis, edge: config }).fetch;
  log(`server on http://127.0.0.1:${port}`);

  return {
    url: `http://127.0.0.1:${port}`,
    publicUrl: config.PUBLIC_URL,
    config,
    deps,
    queuePrefix,
    spritesLocal,
    boxAgentBundle,
    spriteHomeOnHost: (spriteName) => join(spritesDataDir, spriteName, "home"),
    async startWorkers() {
      const connection = createRedis(config.REDIS_URL, "worker");
      const running = await startWorkers({ deps, connection, prefix: queuePrefix, runtime: deps.runtime });
      cleanup.push("stop the workers", async () => {
        await running.close();
        connection.disconnect();
      });
      return running;
    },
  };
}
