import type { Options, McpServerConfig as SdkMcpServerConfig } from "@anthropic-ai/claude-agent-sdk";
import type { RunAgent } from "@vps-claude/contract/box-agent";
import type { BoxAgentConfig } from "../config";
import { BOX_AGENT_MCP_SERVER, BOX_AGENT_TOOLS, qualifiedToolName } from "../mcp/tool-names";
import { type InstalledSkill, withSkillsSection } from "./skills";

/** How to start `box-agent mcp`: an absolute node path plus our own entry, since Claude's env is replaced. */
export interface McpCommand {
  command: string;
  args: string[];
}

/**
 * Variables a box's env vars may not override: they keep each run isolated and quiet, and send
 * every model request through the platform's gateway, tied to its run.
 */
const RESERVED_ENV = [
  "HOME",
  "CLAUDE_CONFIG_DIR",
  "CLAUDE_CODE_TMPDIR",
  "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
  "ANTHROPIC_BASE_URL",
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "ANTHROPIC_CUSTOM_HEADERS",
] as const;

/** The header the model gateway reads to tie a model request to its run (`model_request.run_id`). */
export const RUN_ID_HEADER = "x-vps-run-id";

/** The variable that hands the run's id to the `box-agent mcp` process Claude starts for it. */
export const MCP_RUN_ID_ENV = "VPS_RUN_ID";

/** The `ANTHROPIC_CUSTOM_HEADERS` value that ties a run's model requests to it. */
export function runIdHeaders(runId: string): string {
  return `${RUN_ID_HEADER}: ${runId}`;
}

/**
 * `env` replaces the CLI's whole environment, so everything it needs is listed here. Claude's API
 * key is the box's own token, good only at the platform's model gateway, which adds the real key
 * server-side; `ANTHROPIC_CUSTOM_HEADERS` ("Name: value" lines) carries the run id on each request.
 */
export function buildClaudeEnv(
  config: BoxAgentConfig,
  userEnv: Record<string, string>,
  runId: string,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: config.path,
    LANG: "C.UTF-8",
    ...config.claudeTuning,
  };
  for (const [key, value] of Object.entries(userEnv)) {
    if (!(RESERVED_ENV as readonly string[]).includes(key)) {
      env[key] = value;
    }
  }
  env.HOME = config.paths.home;
  env.CLAUDE_CONFIG_DIR = config.paths.claudeConfigDir;
  env.CLAUDE_CODE_TMPDIR = config.paths.claudeTmpDir;
  env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1";
  env.ANTHROPIC_BASE_URL = config.anthropicBaseUrl;
  env.ANTHROPIC_API_KEY = config.boxSecret;
  env.ANTHROPIC_CUSTOM_HEADERS = runIdHeaders(runId);
  return env;
}

function toSdkServer(server: RunAgent["mcpServers"][string]): SdkMcpServerConfig {
  if (server.type === "stdio") {
    return { type: "stdio", command: server.command, args: server.args, env: server.env };
  }
  return { type: server.type, url: server.url, headers: server.headers };
}

export interface ClaudeRunOptionsInput {
  config: BoxAgentConfig;
  /** Sent as `x-vps-run-id` on each of the run's model requests. */
  runId: string;
  /** The model, system prompt and MCP servers the platform resolved for the run's trigger. */
  agent: RunAgent;
  userEnv: Record<string, string>;
  /** Skills found in `~/.claude/skills` for this run; listed at the end of the system prompt. */
  installedSkills: InstalledSkill[];
  mcpCommand: McpCommand;
  /** Resume this session, or start a new one under `newSessionId`. */
  session: { resume: string } | { newSessionId: string };
  abortController: AbortController;
  spawnClaudeCodeProcess: NonNullable<Options["spawnClaudeCodeProcess"]>;
}

/**
 * Every run is headless and isolated: nothing comes from settings files, only the MCP servers listed
 * here exist, and the tool set and permissions are spelled out, since with `dontAsk` anything not
 * allowed is silently denied.
 */
export function buildClaudeOptions(input: ClaudeRunOptionsInput): Options {
  const { config, agent, mcpCommand } = input;

  const configured = Object.fromEntries(
    Object.entries(agent.mcpServers)
      .filter(([name]) => name !== BOX_AGENT_MCP_SERVER)
      .map(([name, server]) => [name, toSdkServer(server)]),
  );

  const mcpServers: Record<string, SdkMcpServerConfig> = {
    ...configured,
    [BOX_AGENT_MCP_SERVER]: {
      type: "stdio",
      command: mcpCommand.command,
      args: mcpCommand.args,
      env: {
        PATH: config.path,
        HOME: config.paths.home,
        BOX_AGENT_HOME: config.paths.home,
        BOX_ID: config.boxId,
        BOX_SECRET: config.boxSecret,
        SERVER_URL: config.serverUrl,
        // Its media calls name the run (as `x-vps-run-id`), so the ledger bills them to it.
        [MCP_RUN_ID_ENV]: input.runId,
      },
      // Without this the first request can be sent before our server connects, or its tools can be
      // deferred behind tool search; either way Claude would not see them.
      alwaysLoad: true,
    },
  };

  const allowedTools = [
    ...config.builtinTools,
    ...BOX_AGENT_TOOLS.map(qualifiedToolName),
    // We do not know a configured server's tools up front; the server-level rule allows all of them.
    ...Object.keys(configured).map((name) => `mcp__${name}`),
  ];

  return {
    cwd: config.paths.home,
    env: buildClaudeEnv(config, input.userEnv, input.runId),
    systemPrompt: withSkillsSection(agent.systemPrompt, input.installedSkills, {
      readTool: config.builtinTools.includes("Read"),
    }),
    model: agent.model,
    // The run's own stops from its trigger's agent config; the monthly budgets are the gateway's.
    ...(agent.maxBudgetUsd === undefined ? {} : { maxBudgetUsd: agent.maxBudgetUsd }),
    ...(agent.maxTurns === undefined ? {} : { maxTurns: agent.maxTurns }),
    mcpServers,
    // Keeps the box token in our server's env off the process command line.
    mcpServersDelivery: "initialize",
    strictMcpConfig: true,
    settingSources: [],
    tools: config.builtinTools,
    allowedTools,
    permissionMode: "dontAsk",
    persistSession: true,
    abortController: input.abortController,
    spawnClaudeCodeProcess: input.spawnClaudeCodeProcess,
    ...(config.claudeExecutable === undefined ? {} : { pathToClaudeCodeExecutable: config.claudeExecutable }),
    ...("resume" in input.session
      ? { resume: input.session.resume }
      : { sessionId: input.session.newSessionId }),
  };
}
