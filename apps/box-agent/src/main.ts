#!/usr/bin/env node
import { resolve } from "node:path";
import type { McpCommand } from "./agent/claude-options";
import { ConfigError } from "./config";
import { runMcpServer } from "./mcp/main";
import { runDaemon } from "./serve";
import { VERSION } from "./version";

const USAGE = `box-agent ${VERSION}

usage: box-agent [serve]   run the HTTP API and Claude runner (default)
       box-agent mcp       run the stdio MCP server Claude uses (started by box-agent itself)
       box-agent --version`;

/**
 * Claude Code starts our MCP server with a replaced environment, so the command must be absolute.
 * Re-running ourselves with node's own flags works for the bundle and for `tsx src/main.ts` alike.
 */
function selfMcpCommand(): McpCommand {
  const entry = process.argv[1];
  if (entry === undefined) {
    throw new Error("cannot tell which script is running (process.argv[1] is empty)");
  }
  return { command: process.execPath, args: [...process.execArgv, resolve(entry), "mcp"] };
}

function fail(message: string): never {
  process.stderr.write(`box-agent: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const command = process.argv[2] ?? "serve";
  switch (command) {
    case "serve": {
      const daemon = await runDaemon({ mcpCommand: selfMcpCommand() });
      const stop = () => {
        void daemon.close().then(
          () => process.exit(0),
          (error: unknown) => fail(`shutdown failed: ${String(error)}`),
        );
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
      return;
    }
    case "mcp":
      await runMcpServer();
      return;
    case "--version":
    case "version":
      process.stdout.write(`${VERSION}\n`);
      return;
    case "--help":
    case "help":
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      fail(`unknown command '${command}'\n\n${USAGE}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    fail(error.message);
  }
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
});
