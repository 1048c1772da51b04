import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningWorkers, startWorkers } from "@vps-claude/api";
import { createLogger } from "@vps-claude/logger";
import { clearQueuePrefix, QUEUES } from "@vps-claude/queue";
import { createRedis, waitForRedis } from "@vps-claude/redis";
import { generateEncryptionKey } from "@vps-claude/shared";
import { createSpritesLocal } from "@vps-claude/sprites-local";
import { createApp } from "../../../../apps/server/src/app";
import { loadConfig, type ServerConfig } from "../../../../apps/server/src/config";
import { createServerDeps, type ServerDeps } from "../../../../apps/server/src/deps";
import { startSmtpListener } from "../../../../apps/server/src/smtp";
import { type FakeDns, startFakeDns } from "../dns";
import { REPO_NODE_MODULES, testBoxAgentBundle } from "./box-agent";
import { createScratchDatabase, requireEnv } from "./database";
import { listenOnLoopback } from "./http";
import { type RunningSprites, startSpritesLocalProcess } from "./sprites-process";
import { Teardown } from "./teardown";

export interface StartPlatformOptions {
  /** Server environment on top of the harness's (wins over it). */
  env?: Record<string, string>;
  /** Start the BullMQ workers now (else `startWorkers()` later, or never). */
  workers?: boolean;
  /**
   * Run a sprites-local host, so deploys really create sandboxes: `true` in this process,
   * `"process"` as its own process, the way `npm start` runs it (a benchmark's measured event loop stays its own).
   */
  sprites?: boolean | "process";
  /** Extra environment for box-agent inside sandboxes. */
  boxAgentEnv?: Record<string, string>;
  /** Sprite idle time before sleeping, for sleep/wake tests. */
  spriteIdleMs?: number;
  /** Start the inbound SMTP listener on a free port. */
  smtp?: boolean;
  /** Names the scratch database, temp dir, queue prefix and logger (`<label>_…`); "test" by default. */
  label?: string;
  /** Defaults to `DATABASE_URL`: the scratch database is created beside the one it names. */
  adminUrl?: string;
  /** Defaults to `REDIS_URL`. */
  redisUrl?: string;
  /** Where the server logs (a benchmark keeps stdout for its result); stdout by default. */
  logDestination?: NodeJS.WritableStream;
}

export interface Platform {
  url: string;
  publicUrl: string;
  config: ServerConfig;
  deps: ServerDeps;
  databaseUrl: string;
  queuePrefix: string;
  workers?: RunningWorkers;
  spritesLocal?: RunningSprites;
  /** sprites-local's data dir: every sandbox lives below it. */
  spritesDataDir: string;
  /** The built box-agent bundle, when sprites run (also runnable as `node <bundle> mcp` outside a box). */
  boxAgentBundle?: string;
  dataDir: string;
  smtpPort?: number;
  /** With `smtp`: the DNS the listener's SPF/DKIM/DMARC checks resolve through (unless env sets DNS_SERVERS). */
  dns?: FakeDns;
  /** A sprite's home directory on this machine's filesystem. */
  spriteHomeOnHost(spriteName: string): string;
  /** Starts the BullMQ workers with `deps.runtime` as it is now (once; `workers: true` already did). */
  startWorkers(): Promise<RunningWorkers>;
  close(): Promise<void>;
}

/**
 * The whole platform in this process, wired as `npm start` wires it (createServerDeps + createApp, the
 * workers, the SMTP listener) but on 127.0.0.1 and free ports, with its own scratch database, data dir,
 * queue prefix and, on demand, a sprites-local host whose sandboxes read the repo's node_modules.
 */
export async function startPlatform(options: StartPlatformOptions = {}): Promise<Platform> {
  const teardown = new Teardown("platform");
  try {
    return await assemble(options, teardown);
  } catch (error) {
    await teardown.run().catch(() => {});
    throw error;
  }
}

async function assemble(
  {
    env = {},
    workers = false,
    sprites = false,
    boxAgentEnv,
    spriteIdleMs,
    smtp = false,
    label = "test",
    adminUrl = requireEnv("DATABASE_URL"),
    redisUrl = requireEnv("REDIS_URL"),
    logDestination,
  }: StartPlatformOptions,
  teardown: Teardown,
): Promise<Platform> {
  const database = await createScratchDatabase({ adminUrl, prefix: `vps_${label}` });
  teardown.push(database.drop);
  const workDir = await mkdtemp(join(tmpdir(), `vps-${label}-data-`));
  teardown.push(() => rm(workDir, { recursive: true, force: true }));
  const dataDir = join(workDir, "data");
  const spritesDataDir = join(workDir, "sprites");
  await mkdir(dataDir, { recursive: true });

  const queuePrefix = `${label}-${randomBytes(4).toString("hex")}`;
  const redis = createRedis(redisUrl, "producer");
  teardown.push(() => redis.disconnect());
  await waitForRedis(redis);
  // Whatever the queues left (schedulers, flows, completed jobs) goes with the platform.
  teardown.push(() => clearQueuePrefix(redis, queuePrefix));

  // Listen first: boxes need the server's real URL (SERVER_URL) in their config.
  const server = await listenOnLoopback();
  teardown.push(server.close);
  const spritesToken = randomBytes(16).toString("hex");
  const spritesLocal = sprites
    ? await startSprites(sprites, {
        dataDir: spritesDataDir,
        token: spritesToken,
        // The one host service a sprite reaches from its own network namespace.
        platformUrl: server.url,
        idleMs: spriteIdleMs ?? 60_000,
      })
    : undefined;
  if (spritesLocal) {
    teardown.push(spritesLocal.close);
  }
  const boxAgentBundle = spritesLocal ? await testBoxAgentBundle() : undefined;

  // Sender checks resolve DNS; in tests only ever against a fake on loopback.
  const fakeDns = smtp && !env.DNS_SERVERS ? await startFakeDns() : undefined;
  if (fakeDns) {
    teardown.push(fakeDns.close);
  }
  const config = loadConfig({
    SERVER_URL: server.url,
    NODE_ENV: "test",
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
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
    SPRITES_LOCAL_TOKEN: spritesToken,
    // Nothing listens on port 9 (discard): without sprites, a deploy fails at once and visibly.
    SPRITES_API_URL: spritesLocal?.url ?? "http://127.0.0.1:9",
    ...(boxAgentBundle ? { BOX_AGENT_BUNDLE: boxAgentBundle } : {}),
    ...(fakeDns ? { DNS_SERVERS: fakeDns.server } : {}),
    ...env,
  });
  const logger = createLogger({
    name: `${label}-server`,
    level: config.LOG_LEVEL,
    ...(logDestination ? { destination: logDestination } : {}),
  });
  const deps = createServerDeps(config, logger);
  teardown.push(() => deps.close());
  if (boxAgentEnv) {
    deps.runtime.boxAgentEnv = boxAgentEnv;
  }
  teardown.push(() =>
    Promise.all(
      Object.keys(QUEUES).map((key) =>
        deps.queues
          .get(key as keyof typeof QUEUES)
          .obliterate({ force: true })
          .catch(() => {}),
      ),
    ),
  );
  const app = createApp({ deps, redis, edge: config });
  teardown.push(() => app.close());
  // Before the app and deps close: no request may reach them half-closed (closing twice is harmless).
  teardown.push(server.close);
  teardown.push(app.closeTerminals);
  server.handle(app.fetch);
  server.handleUpgrade(app.upgrade);

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
  if (smtpListener) {
    teardown.push(smtpListener.close);
  }

  let running: RunningWorkers | undefined;
  const startOnce = async () => {
    if (!running) {
      const connection = createRedis(config.REDIS_URL, "worker");
      teardown.push(() => connection.disconnect());
      running = await startWorkers({ deps, connection, prefix: queuePrefix, runtime: deps.runtime });
      teardown.push(running.close);
    }
    return running;
  };
  if (workers) {
    await startOnce();
  }

  return {
    url: server.url,
    publicUrl: config.PUBLIC_URL,
    config,
    deps,
    databaseUrl: database.url,
    queuePrefix,
    get workers() {
      return running;
    },
    spritesLocal,
    spritesDataDir,
    boxAgentBundle,
    dataDir,
    smtpPort: smtpListener?.port,
    dns: fakeDns,
    spriteHomeOnHost: (spriteName) => join(spritesDataDir, spriteName, "home"),
    startWorkers: startOnce,
    close: () => teardown.run(),
  };
}

async function startSprites(
  mode: true | "process",
  options: { dataDir: string; token: string; platformUrl: string; idleMs: number },
): Promise<RunningSprites> {
  const readOnlyBinds = [REPO_NODE_MODULES];
  if (mode === "process") {
    return startSpritesLocalProcess({ ...options, readOnlyBinds });
  }
  return createSpritesLocal({ ...options, port: 0, proxyPort: 0, readOnlyBinds });
}
