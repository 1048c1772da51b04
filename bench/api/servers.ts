import { randomBytes } from "node:crypto";
import { createLogger } from "@vps-claude/logger";
import { createRedis, waitForRedis } from "@vps-claude/redis";
import { generateEncryptionKey } from "@vps-claude/shared";
import { Hono } from "hono";
import { createApp } from "../../apps/server/src/app";
import { loadConfig } from "../../apps/server/src/config";
import { createServerDeps, type ServerDeps } from "../../apps/server/src/deps";
import { listenOnLoopback, type RunningServer } from "../lib/serve";

export interface ApiServer extends RunningServer {
  publicUrl: string;
  deps: ServerDeps;
}

/** The production app (createApp + createServerDeps) against the run's database and queue prefix. */
export async function startApiServer(options: {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
}): Promise<ApiServer> {
  const config = loadConfig({
    // Not production: its secure cookies would not be sent back over plain http to 127.0.0.1.
    NODE_ENV: "development",
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: options.queuePrefix,
    BETTER_AUTH_SECRET: randomBytes(32).toString("base64url"),
    ENCRYPTION_KEY: generateEncryptionKey(),
    PUBLIC_URL: "http://localhost:33001",
    AUTH_RATE_LIMIT: "off",
    LOG_LEVEL: "silent",
  });
  const logger = createLogger({ name: "bench-api", level: config.LOG_LEVEL });
  const deps = createServerDeps(config, logger);
  const healthRedis = createRedis(config.REDIS_URL, "producer");
  await waitForRedis(healthRedis);
  const server = await listenOnLoopback(createApp({ deps, redis: healthRedis, edge: config }).fetch);
  return {
    url: server.url,
    publicUrl: config.PUBLIC_URL,
    deps,
    async close() {
      await server.close();
      healthRedis.disconnect();
      await deps.close();
    },
  };
}

/** The floor to compare against: Hono on the same Node server, sending a fixed, identical body. */
export function startBareServer(path: string, body: string): Promise<RunningServer> {
  const app = new Hono();
  app.get(path, (c) => c.body(body, 200, { "content-type": "application/json" }));
  return listenOnLoopback(app.fetch);
}

/** Signs up through better-auth as the dashboard does and returns the Cookie header for the session. */
export async function signUp(server: Pick<ApiServer, "url" | "publicUrl">) {
  const email = `bench-${randomBytes(4).toString("hex")}@example.com`;
  const response = await fetch(`${server.url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { origin: server.publicUrl, "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct-horse-battery", name: "Bench" }),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`sign-up failed: HTTP ${response.status} ${text}`);
  }
  const userId = (JSON.parse(text) as { user?: { id?: string } }).user?.id;
  const cookie = response.headers
    .getSetCookie()
    .map((header) => header.split(";")[0] ?? "")
    .filter((pair) => pair.includes("="))
    .join("; ");
  if (!userId || !cookie) {
    throw new Error(`sign-up answered without a user id or session cookie: ${text}`);
  }
  return { userId, cookie };
}
