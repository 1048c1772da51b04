import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createLogger } from "@vps-claude/logger";
import { BoxApiClient } from "../box-api";
import { loadConfig } from "../config";
import { Inbox } from "../email/inbox";
import { VERSION } from "../version";
import { createBoxAgentMcpServer } from "./server";

const MEDIA_TIMEOUT_MS = 420_000;

/** `box-agent mcp`: Claude Code starts this per run; stdout is the protocol, so logs go to stderr. */
export async function runMcpServer(): Promise<void> {
  const logger = createLogger({ name: "box-agent-mcp", destination: process.stderr });
  const config = loadConfig();
  const api = new BoxApiClient({ serverUrl: config.serverUrl, boxSecret: config.boxSecret });
  // A media call may wait on a provider and then on its fallback (up to 3 minutes each on the platform).
  const mediaApi = new BoxApiClient({
    serverUrl: config.serverUrl,
    boxSecret: config.boxSecret,
    timeoutMs: MEDIA_TIMEOUT_MS,
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
  logger.debug({ boxId: config.boxId }, "box-agent MCP server ready");
}
