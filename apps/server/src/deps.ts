import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createMediaAi } from "@vps-claude/ai";
import {
  type ApiDeps,
  createRedisRunEventBus,
  createSpritesBoxAgentClient,
  DEFAULT_ANTHROPIC_BASE_URL,
  DEFAULT_MODEL_ACCESS_CACHE_MS,
  DEFAULT_MODEL_REQUEST_MAX_BYTES,
  DEFAULT_SPEND_CACHE_MS,
  type DeployRuntime,
} from "@vps-claude/api";
import { createAuth, createSessionResolver } from "@vps-claude/auth";
import { createDatabase } from "@vps-claude/db";
import { selectEmailProvider } from "@vps-claude/email";
import type { Logger } from "@vps-claude/logger";
import { createQueues } from "@vps-claude/queue";
import { createRedis } from "@vps-claude/redis";
import { createKeyring } from "@vps-claude/shared";
import { createSpritesClient, type SpritesClient } from "@vps-claude/sprites";
import { createLocalStorage } from "@vps-claude/storage";
import type { ServerConfig } from "./config";

export interface ServerDeps extends ApiDeps {
  sprites: SpritesClient;
  runtime: DeployRuntime;
  close(): Promise<void>;
}

const REPO_NODE_MODULES = fileURLToPath(new URL("../../../node_modules", import.meta.url));

/** True when boxes run on the embedded sprites-local host rather than Fly.io Sprites. */
export const usesSpritesLocal = (config: ServerConfig) => !config.SPRITES_TOKEN;

function createRuntime(config: ServerConfig, sprites: SpritesClient): DeployRuntime {
  const local = usesSpritesLocal(config);
  return {
    sprites,
    async readBoxAgentBundle() {
      try {
        return await readFile(config.BOX_AGENT_BUNDLE);
      } catch {
        throw new Error(
          `the box-agent bundle is missing at ${config.BOX_AGENT_BUNDLE}: build it with 'npm run -w @vps-claude/box-agent build' (npm start does this)`,
        );
      }
    },
    nodeCommand: config.BOX_AGENT_NODE ?? (local ? process.execPath : "node"),
    nodePath: config.BOX_AGENT_NODE_PATH ?? (local ? REPO_NODE_MODULES : undefined),
    boxAgentPort: local ? "auto" : config.BOX_AGENT_PORT,
    boxAgentHost: local ? "127.0.0.1" : "0.0.0.0",
    serverUrlForBoxes: config.SERVER_URL,
    spriteNamePrefix: config.SPRITE_NAME_PREFIX,
    healthTimeoutMs: config.DEPLOY_HEALTH_TIMEOUT_MS,
  };
}

/** Successful media calls (images, speech, transcripts) one box may make per rolling hour. */
const AI_CALLS_PER_BOX_PER_HOUR = 120;

function createAi(config: ServerConfig): ApiDeps["ai"] {
  const keyed = <T>(key: string | undefined, value: (key: string) => T) => (key ? value(key) : undefined);
  return {
    media: createMediaAi({
      fal: keyed(config.FAL_KEY, (apiKey) => ({ apiKey, baseUrl: config.FAL_BASE_URL })),
      replicate: keyed(config.REPLICATE_API_TOKEN, (apiToken) => ({
        apiToken,
        baseUrl: config.REPLICATE_BASE_URL,
      })),
      elevenLabs: keyed(config.ELEVENLABS_API_KEY, (apiKey) => ({
        apiKey,
        baseUrl: config.ELEVENLABS_BASE_URL,
      })),
      googleSpeech: keyed(config.GOOGLE_SPEECH_API_KEY, (apiKey) => ({
        apiKey,
        baseUrl: config.GOOGLE_SPEECH_BASE_URL,
      })),
    }),
    callsPerHour: AI_CALLS_PER_BOX_PER_HOUR,
  };
}

export function createServerDeps(config: ServerConfig, logger: Logger): ServerDeps {
  const database = createDatabase({ url: config.DATABASE_URL, max: 20 });
  const producer = createRedis(config.REDIS_URL, "producer");
  const queues = createQueues({ connection: producer, prefix: config.QUEUE_PREFIX, logger });
  const runEvents = createRedisRunEventBus({
    publisher: producer,
    createSubscriber: () => createRedis(config.REDIS_URL, "worker"),
    prefix: config.QUEUE_PREFIX,
    logger: logger.child({ component: "run-events" }),
  });
  const auth = createAuth({
    db: database.db,
    secret: config.BETTER_AUTH_SECRET,
    baseURL: config.PUBLIC_URL,
    trustedOrigins: config.TRUSTED_ORIGINS,
    rateLimit: { enabled: config.AUTH_RATE_LIMIT === "on" },
  });
  const keyring = createKeyring(config.ENCRYPTION_KEY, config.ENCRYPTION_KEYS_PREVIOUS);
  const sprites = createSpritesClient({
    token: config.SPRITES_TOKEN ?? config.SPRITES_LOCAL_TOKEN ?? "",
    baseUrl: config.SPRITES_API_URL ?? (usesSpritesLocal(config) ? "http://127.0.0.1:33010" : undefined),
    logger: logger.child({ component: "sprites" }),
  });
  return {
    db: database.db,
    queues,
    auth,
    sessions: createSessionResolver(auth),
    keyring,
    logger,
    sprites,
    runtime: createRuntime(config, sprites),
    storage: createLocalStorage({ dir: join(config.DATA_DIR, "storage") }),
    emailProvider: selectEmailProvider({
      resendApiKey: config.RESEND_API_KEY,
      resendBaseUrl: config.RESEND_BASE_URL,
      smtpUrl: config.SMTP_URL,
      outboxDir: join(config.DATA_DIR, "outbox"),
    }),
    boxAgent: createSpritesBoxAgentClient({ sprites, db: database.db, keyring }),
    ai: createAi(config),
    runEvents,
    config: {
      agentsDomain: config.AGENTS_DOMAIN,
      deployStuckAfterMs: config.DEPLOY_STUCK_AFTER_MS,
      // Box tokens are 256-bit random values, so a fixed key suffices for the lookup hash, and it
      // survives a rotation of BETTER_AUTH_SECRET or ENCRYPTION_KEY.
      tokenPepper: "vps-claude/box-token/v1",
      defaultModel: config.DEFAULT_MODEL,
      skillsDir: config.SKILLS_DIR,
      email: {
        resend: config.RESEND_API_KEY
          ? { apiKey: config.RESEND_API_KEY, baseUrl: config.RESEND_BASE_URL }
          : undefined,
        webhookSecret: config.RESEND_WEBHOOK_SECRET,
        maxMessageBytes: config.EMAIL_MAX_BYTES,
        recipientsPerHour: config.EMAIL_RECIPIENTS_PER_HOUR ?? config.EMAIL_SENDS_PER_HOUR ?? 30,
        deliveryRetryBaseMs: config.EMAIL_DELIVERY_RETRY_BASE_MS,
      },
      modelGateway: {
        upstreamUrl: config.ANTHROPIC_BASE_URL ?? DEFAULT_ANTHROPIC_BASE_URL,
        platformApiKey: config.ANTHROPIC_API_KEY,
        maxRequestBytes: DEFAULT_MODEL_REQUEST_MAX_BYTES,
        accessCacheMs: DEFAULT_MODEL_ACCESS_CACHE_MS,
      },
      platformEgressDomains: usesSpritesLocal(config) ? [] : [new URL(config.SERVER_URL).hostname],
      reconcile: {
        everyMs: config.RECONCILE_EVERY_MS,
        deployFailAfterMs: Math.max(config.DEPLOY_FAIL_AFTER_MS, config.DEPLOY_STUCK_AFTER_MS),
        runGraceMs: config.RUN_GRACE_MS,
        cronTickStuckAfterMs: config.CRON_TICK_STUCK_AFTER_MS,
        emailRunMissingAfterMs: config.EMAIL_RUN_MISSING_AFTER_MS,
        lostJobAfterMs: config.LOST_JOB_AFTER_MS,
      },
      runs: { dispatchDeadlineMs: config.RUN_DISPATCH_DEADLINE_MS },
      money: {
        defaultMonthlyBudgetUsd: config.DEFAULT_MONTHLY_BUDGET_USD ?? null,
        platformEmailFrom: config.PLATFORM_EMAIL_FROM ?? `VPS Claude <platform@${config.AGENTS_DOMAIN}>`,
        dashboardUrl: config.PUBLIC_URL,
        spendCacheMs: DEFAULT_SPEND_CACHE_MS,
      },
    },
    async close() {
      await runEvents.close();
      await queues.close();
      producer.disconnect();
      await database.close();
    },
  };
}
