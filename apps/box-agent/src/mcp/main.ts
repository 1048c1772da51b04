import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createLogger } from "@vps-claude/logger";
import { BoxApiClient } from "../box-api";
import { loadConfig } from "../config";
import { Inbox } from "../email/inbox";
import { VERSION } from "../version";
import { createBoxAgentMcpServer } from "./server";

/** `box-agent mcp`: Claude Code starts this per run; stdout is the protocol, so logs go to stderr. */
export async function runMcpServer(): Promise<void> {
  const logger = createLogger({ name: "box-agent-mcp", destination: process.stderr });
  const config = loadConfig();
  const api = new BoxApiClient({ serverUrl: config.serverUrl, boxSecret: config.boxSecret });
  const server = createBoxAgentMcpServer({ api, inbox: new Inbox(config.paths.inboxDir), version: VERSION });
  const transport = new StdioServerTransport();
  transport.onclose = () => {
    process.exit(0);
  };
  await server.connect(transport);
  logger.debug({ boxId: config.boxId }, "box-agent MCP server ready");
}
