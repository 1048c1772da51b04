import { mkdirSync } from "node:fs";
import type { Logger } from "@vps-claude/logger";
import type { Hono } from "hono";
import type { McpCommand } from "./agent/claude-options";
import { AgentRunner } from "./agent/runner";
import { createBoxAgentApp } from "./app";
import { BoxApiClient } from "./box-api";
import type { BoxAgentConfig } from "./config";
import { Inbox } from "./email/inbox";
import { SessionStore } from "./session-store";
import { VERSION } from "./version";

export interface BoxAgent {
  app: Hono;
  config: BoxAgentConfig;
  store: SessionStore;
  runner: AgentRunner;
  inbox: Inbox;
  boxApi: BoxApiClient;
  /** Stops the runner (in-flight runs end as failed) and closes the session store. */
  close(): Promise<void>;
}

export interface CreateBoxAgentOptions {
  config: BoxAgentConfig;
  mcpCommand: McpCommand;
  logger: Logger;
  /** Reported by `/health`; the build's own by default. */
  version?: string;
}

/**
 * box-agent's parts wired together: the session store, the platform client, the runner, the inbox
 * and the HTTP app over them. `serve` listens with it; tests call `app.request` on it directly.
 */
export function createBoxAgent({
  config,
  mcpCommand,
  logger,
  version = VERSION,
}: CreateBoxAgentOptions): BoxAgent {
  mkdirSync(config.paths.dataDir, { recursive: true, mode: 0o700 });
  const store = SessionStore.open(config.paths.database);
  const interrupted = store.failInterruptedRuns();
  if (interrupted > 0) {
    logger.warn({ runs: interrupted }, "marked runs cut off by the last shutdown as failed");
  }
  const boxApi = new BoxApiClient({ serverUrl: config.serverUrl, boxSecret: config.boxSecret });
  const runner = new AgentRunner({ config, store, boxApi, logger, mcpCommand });
  const inbox = new Inbox(config.paths.inboxDir);
  const app = createBoxAgentApp({
    boxId: config.boxId,
    boxSecret: config.boxSecret,
    version,
    startedAt: Date.now(),
    store,
    runner,
    inbox,
    boxApi,
    logger,
  });
  return {
    app,
    config,
    store,
    runner,
    inbox,
    boxApi,
    async close() {
      await runner.shutdown();
      store.close();
    },
  };
}
