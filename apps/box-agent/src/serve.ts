import { serve } from "@hono/node-server";
import { createLogger, type Logger } from "@vps-claude/logger";
import type { McpCommand } from "./agent/claude-options";
import { createBoxAgent } from "./box-agent";
import { type BoxAgentConfig, loadConfig } from "./config";
import { VERSION } from "./version";

export interface RunningDaemon {
  port: number;
  close(): Promise<void>;
}

/** `box-agent serve`: the HTTP API plus the runner, until SIGTERM/SIGINT. */
export async function runDaemon(options: {
  mcpCommand: McpCommand;
  config?: BoxAgentConfig;
  logger?: Logger;
}): Promise<RunningDaemon> {
  const logger = options.logger ?? createLogger({ name: "box-agent" });
  const config = options.config ?? loadConfig();
  const { app, runner, store } = createBoxAgent({ config, mcpCommand: options.mcpCommand, logger });

  let closing: Promise<void> | undefined;
  const server = serve({
    fetch: async (request, env) => {
      const response = await app.fetch(request, env);
      // A kept-alive socket would hold server.close() open after the last answer of a shutdown.
      if (closing !== undefined) {
        response.headers.set("connection", "close");
      }
      return response;
    },
    port: config.port,
    hostname: config.host,
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => {
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : config.port);
    });
  });
  logger.info({ boxId: config.boxId, host: config.host, port, version: VERSION }, "box-agent listening");

  const close = () => {
    closing ??= (async () => {
      logger.info("box-agent shutting down");
      // Stop accepting first; event streams end once the runner recorded the aborted runs' ends.
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await runner.shutdown();
      await serverClosed;
      store.close();
      logger.info("box-agent stopped");
    })();
    return closing;
  };
  return { port, close };
}
