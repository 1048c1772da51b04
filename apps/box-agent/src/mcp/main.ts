import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createLogger } from "@vps-claude/logger";
import { MCP_RUN_ID_ENV, RUN_ID_HEADER } from "../agent/claude-options";
import { BoxApiClient } from "../box-api";
import { loadConfig } from "../config";
import { Inbox } from "../email/inbox";
import { VERSION } from "../version";
import { createBoxAgentMcpServer } from "./server";

const MEDIA_TIMEOUT_MS = 420_000;
const RUN_ID = /^[\w.:-]{1,100}$/;

/** The run this server was started for (box-agent sets it per run); absent when started by hand. */
export function runIdFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[MCP_RUN_ID_ENV]?.trim();
  return value && RUN_ID.test(value) ? value : undefined;
}

/** `box-agent mcp`: Claude Code starts this per run; stdout is the protocol, so logs go to stderr. */
export async function runMcpServer(): Promise<void> {
  const logger = createLogger({ name: "box-agent-mcp", destination: process.stderr });
  const config = loadConfig();
  const api = new BoxApiClient({ serverUrl: config.serverUrl, boxSecret: config.boxSecret });
  const runId = runIdFromEnv();
  // A media call may wait on a provider and then on its fallback (up to 3 minutes each on the platform).
  // It names its run, so the platform bills it to the run and its trigger.
  const mediaApi = new BoxApiClient({
    serverUrl: config.serverUrl,
    boxSecret: config.boxSecret,
    timeoutMs: MEDIA_TIMEOUT_MS,
    headers: runId === undefined ? {} : { [RUN_ID_HEADER]: runId },
  });
  const server = createBoxAgentMcpServer({
    api,
    mediaApi,
    inbox: new Inbox(config.paths.inboxDir),
    version: VERSION,
    home: config.paths.home,
  });
  const transport = new StdioServerTransport();
  transport.onclose = () => {
    process.exit(0);
  };
  await server.connect(transport);
  logger.debug({ boxId: config.boxId, runId }, "box-agent MCP server ready");
}
