import { serve } from "@hono/node-server";
import { startWorkers } from "@vps-claude/api";
import { migrateDatabase } from "@vps-claude/db";
import { createLogger } from "@vps-claude/logger";
import { createRedis, waitForRedis } from "@vps-claude/redis";
import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config";
import { createServerDeps } from "./deps";
import { HTTP_SERVER_OPTIONS } from "./http-server";
import { checkSandboxConfinement, UnconfinedSandboxError } from "./sandbox-confinement";
import { startSmtpListener } from "./smtp";

async function main() {
  const config = loadConfig();
  const logger = createLogger({ name: "server", level: config.LOG_LEVEL });
  logger.info({ role: config.SERVER_ROLE }, "starting");
  await checkSandboxConfinement(config, logger);

  await migrateDatabase(config.DATABASE_URL);
  logger.info("database migrated");

  const deps = createServerDeps(config, logger);
  const healthRedis = createRedis(config.REDIS_URL, "producer");
  await waitForRedis(healthRedis);
  const closers: (() => Promise<unknown>)[] = [];

  if (config.SERVER_ROLE !== "api") {
    const workerConnection = createRedis(config.REDIS_URL, "worker");
    const workers = await startWorkers({
      deps,
      connection: workerConnection,
      prefix: config.QUEUE_PREFIX,
      runtime: deps.runtime,
      lockDurationMs: config.DEPLOY_LOCK_MS,
    });
    closers.push(async () => {
      await workers.close();
      workerConnection.disconnect();
    });
    logger.info({ workers: workers.workers.length }, "workers started");
  }

  if (config.SERVER_ROLE !== "worker" && config.SMTP_ENABLED === "on") {
    const smtp = await startSmtpListener({
      deps,
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      maxBytes: config.EMAIL_MAX_BYTES,
      maxClients: config.SMTP_MAX_CLIENTS,
      connectionsPerMinute: config.SMTP_CONNECTIONS_PER_MINUTE,
      dnsServers: config.DNS_SERVERS,
      logger: logger.child({ component: "smtp" }),
    });
    closers.unshift(() => smtp.close());
  }

  if (config.SERVER_ROLE !== "worker") {
    const app = createApp({ deps, redis: healthRedis, edge: config });
    const server = serve(
      { fetch: app.fetch, port: config.PORT, hostname: config.HOST, serverOptions: HTTP_SERVER_OPTIONS },
      (info) => logger.info({ port: info.port, publicUrl: config.PUBLIC_URL }, "API listening"),
    );
    server.on("upgrade", app.upgrade);
    closers.unshift(
      () =>
        new Promise<void>((resolve) => {
          app.closeTerminals();
          server.close(() => resolve());
          // Keep-alive connections would hold close() open; the grace period below bounds it anyway.
          (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        }),
      () => app.close(),
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.warn("graceful shutdown took too long; exiting");
      process.exit(1);
    }, 20_000);
    force.unref();
    for (const close of closers) {
      await close().catch((err: unknown) => logger.error({ err }, "error during shutdown"));
    }
    healthRedis.disconnect();
    await deps.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof UnconfinedSandboxError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    createLogger({ name: "server" }).fatal({ err }, "server failed to start");
  }
  process.exit(1);
});
