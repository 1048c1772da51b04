import type { ApiDeps } from "@vps-claude/api";
import { createAuth } from "@vps-claude/auth";
import { createDatabase } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import { createQueues } from "@vps-claude/queue";
import { createRedis } from "@vps-claude/redis";
import { createKeyring } from "@vps-claude/shared";
import type { ServerConfig } from "./config";

export interface ServerDeps extends ApiDeps {
  close(): Promise<void>;
}

export function createServerDeps(config: ServerConfig, logger: Logger): ServerDeps {
  const database = createDatabase({ url: config.DATABASE_URL, max: 20 });
  const producer = createRedis(config.REDIS_URL, "producer");
  const queues = createQueues({ connection: producer, prefix: config.QUEUE_PREFIX });
  const auth = createAuth({
    db: database.db,
    secret: config.BETTER_AUTH_SECRET,
    baseURL: config.PUBLIC_URL,
    trustedOrigins: config.TRUSTED_ORIGINS,
    production: config.NODE_ENV === "production",
    rateLimit: { enabled: config.AUTH_RATE_LIMIT === "on" },
  });
  return {
    db: database.db,
    queues,
    auth,
    keyring: createKeyring(config.ENCRYPTION_KEY, config.ENCRYPTION_KEYS_PREVIOUS),
    logger,
    config: {
      agentsDomain: config.AGENTS_DOMAIN,
      // Box tokens are 256-bit random values, so a fixed key suffices for the lookup hash, and it
      // survives a rotation of BETTER_AUTH_SECRET or ENCRYPTION_KEY.
      tokenPepper: "vps-claude/box-token/v1",
      defaultModel: config.DEFAULT_MODEL,
    },
    async close() {
      await queues.close();
      producer.disconnect();
      await database.close();
    },
  };
}
