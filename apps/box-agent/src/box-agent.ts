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
  /** Stops the runner (in-flight runs end `interrupted`, queued ones stay queued) and closes the store. */
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
 * box-agent's parts wired together: the store, the platform client, the runner, the inbox and the
 * HTTP app over them. Runs a previous process left behind are settled here: the one it was running
 * ends `interrupted`, queued ones are scheduled again. `serve` listens with it; tests call
 * `app.request` on it directly.
 */
export function createBoxAgent({
  config,
  mcpCommand,
  logger,
  version = VERSION,
}: CreateBoxAgentOptions): BoxAgent {
  mkdirSync(config.paths.dataDir, { recursive: true, mode: 0o700 });
  const store = SessionStore.open(config.paths.database);
  const boxApi = new BoxApiClient({ serverUrl: config.serverUrl, boxSecret: config.boxSecret });
  const inbox = new Inbox(config.paths.inboxDir);
  const runner = new AgentRunner({ config, store, inbox, logger, mcpCommand });
  const { interrupted, requeued } = runner.recover();
  if (interrupted > 0 || requeued > 0) {
    logger.warn(
      { interrupted, requeued },
      "settled the runs the last process left: cut off ones interrupted, queued ones scheduled",
    );
  }
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
