import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Options, query } from "@anthropic-ai/claude-agent-sdk";
import { getAgentConfig } from "@vps-claude/api";
import { DEFAULT_BUILTIN_TOOLS } from "../../apps/box-agent/src/config";
import {
  BOX_AGENT_MCP_SERVER,
  BOX_AGENT_TOOLS,
  qualifiedToolName,
} from "../../apps/box-agent/src/mcp/tool-names";
import { type Distribution, distribution, nowMs } from "../lib/distribution";
import { log } from "../lib/env";
import type { Platform } from "../lib/platform";
import type { UserClient } from "../lib/user-client";

const PROMPT = "Say hello in one word.";

interface SessionRun {
  status: string;
  durationMs: number;
  error?: string | null;
}

export interface FirstMessageReport {
  samples: number;
  /** `POST /rpc/box/{id}/sessions/send` with a fresh contextId, until Claude's answer is back. */
  box: Distribution & {
    firstAfterDeployMs: number;
    /** The run as box-agent timed it (its `durationMs`). */
    boxAgentRunP50Ms: number;
    /** Wall time minus box-agent's run: server, sprite URL proxy and box-agent's HTTP layer. */
    platformHopP50Ms: number;
  };
  /** `query()` in this process, same fake Messages API and equivalent options, until its result. */
  baseline: Distribution & {
    firstMs: number;
    firstAssistantMessageP50Ms: number;
    /** When the `result` message arrived; the rest of the wall time is waiting for the CLI to exit. */
    resultMessageP50Ms: number;
  };
  /** box p50 / baseline p50. */
  ratio: number;
}

async function boxSample(client: UserClient, boxId: string) {
  const startedAt = nowMs();
  const run = await client.expect<SessionRun>(200, "POST", `/rpc/box/${boxId}/sessions/send`, {
    contextId: `bench-${randomBytes(4).toString("hex")}`,
    message: PROMPT,
  });
  const wallMs = nowMs() - startedAt;
  if (run.status !== "completed") {
    throw new Error(`the box's Claude run ${run.status}: ${run.error ?? "no error given"}`);
  }
  return { wallMs, boxAgentRunMs: run.durationMs };
}

/**
 * What box-agent hands the SDK for a session run (apps/box-agent/src/agent/claude-options.ts), spelled
 * out: the same system prompt and model, our stdio MCP server from the same bundle, the same tools,
 * permissions, isolation (settingSources [], strict MCP config) and replaced environment.
 */
function baselineOptions(input: {
  home: string;
  platform: Platform;
  boxId: string;
  anthropicUrl: string;
  systemPrompt: string;
  model: string;
}): Options {
  const path = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  const dataDir = join(input.home, ".box-agent");
  return {
    cwd: input.home,
    env: {
      PATH: path,
      LANG: "C.UTF-8",
      ANTHROPIC_BASE_URL: input.anthropicUrl,
      ANTHROPIC_API_KEY: "sk-ant-bench",
      HOME: input.home,
      CLAUDE_CONFIG_DIR: join(dataDir, "claude"),
      CLAUDE_CODE_TMPDIR: join(dataDir, "tmp"),
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      CLAUDE_CODE_MAX_RETRIES: "0",
    },
    systemPrompt: input.systemPrompt,
    model: input.model,
    mcpServers: {
      [BOX_AGENT_MCP_SERVER]: {
        type: "stdio",
        command: process.execPath,
        args: [input.platform.boxAgentBundle, "mcp"],
        env: {
          PATH: path,
          HOME: input.home,
          BOX_AGENT_HOME: input.home,
          BOX_ID: input.boxId,
          // Only read if a tool is called, which this prompt does not do.
          BOX_SECRET: randomBytes(32).toString("hex"),
          SERVER_URL: input.platform.url,
        },
        alwaysLoad: true,
      },
    },
    mcpServersDelivery: "initialize",
    strictMcpConfig: true,
    settingSources: [],
    tools: DEFAULT_BUILTIN_TOOLS,
    allowedTools: [...DEFAULT_BUILTIN_TOOLS, ...BOX_AGENT_TOOLS.map(qualifiedToolName)],
    permissionMode: "dontAsk",
    persistSession: true,
    sessionId: randomUUID(),
  };
}

async function baselineSample(options: Options) {
  const startedAt = nowMs();
  let firstAssistantMs: number | undefined;
  let resultMs: number | undefined;
  let outcome: string | undefined;
  for await (const message of query({ prompt: PROMPT, options: { ...options, sessionId: randomUUID() } })) {
    if (message.type === "assistant" && firstAssistantMs === undefined) {
      firstAssistantMs = nowMs() - startedAt;
    } else if (message.type === "result") {
      resultMs = nowMs() - startedAt;
      outcome = message.subtype === "success" && !message.is_error ? "completed" : message.subtype;
    }
  }
  const wallMs = nowMs() - startedAt;
  if (outcome !== "completed") {
    throw new Error(`the baseline query() ended ${outcome ?? "without a result"}`);
  }
  return { wallMs, firstAssistantMs: firstAssistantMs ?? Number.NaN, resultMs: resultMs ?? Number.NaN };
}

/**
 * Time to Claude's first answer on a warm box against a baseline `query()` run here. One sample of
 * each is taken first (the box's is its first run since deploy; the baseline's warms the disk cache)
 * and reported apart; then the two alternate so drift on the machine hits both alike.
 */
export async function measureFirstMessage(input: {
  platform: Platform;
  client: UserClient;
  boxId: string;
  anthropicUrl: string;
  samples: number;
}): Promise<FirstMessageReport> {
  const { platform, client, boxId } = input;
  const agentConfig = await getAgentConfig({ deps: platform.deps, boxId, triggerType: "session" });
  const home = await mkdtemp(join(tmpdir(), "bench-baseline-home-"));
  try {
    const options = baselineOptions({
      home,
      platform,
      boxId,
      anthropicUrl: input.anthropicUrl,
      systemPrompt: agentConfig.systemPrompt,
      model: agentConfig.model,
    });
    const firstBox = await boxSample(client, boxId);
    const firstBaseline = await baselineSample(options);
    log(
      `first message: box ${Math.round(firstBox.wallMs)} ms, baseline ${Math.round(firstBaseline.wallMs)} ms`,
    );
    const boxRuns: { wallMs: number; boxAgentRunMs: number }[] = [];
    const baselineRuns: { wallMs: number; firstAssistantMs: number; resultMs: number }[] = [];
    for (let index = 0; index < input.samples; index++) {
      boxRuns.push(await boxSample(client, boxId));
      baselineRuns.push(await baselineSample(options));
      log(
        `first message ${index + 1}/${input.samples}: box ${Math.round(boxRuns[index]?.wallMs ?? 0)} ms, baseline ${Math.round(baselineRuns[index]?.wallMs ?? 0)} ms`,
      );
    }
    const boxSpread = distribution(boxRuns.map((run) => run.wallMs));
    const baselineSpread = distribution(baselineRuns.map((run) => run.wallMs));
    return {
      samples: input.samples,
      box: {
        ...boxSpread,
        firstAfterDeployMs: Math.round(firstBox.wallMs),
        boxAgentRunP50Ms: distribution(boxRuns.map((run) => run.boxAgentRunMs)).p50Ms,
        platformHopP50Ms: distribution(boxRuns.map((run) => run.wallMs - run.boxAgentRunMs)).p50Ms,
      },
      baseline: {
        ...baselineSpread,
        firstMs: Math.round(firstBaseline.wallMs),
        firstAssistantMessageP50Ms: distribution(baselineRuns.map((run) => run.firstAssistantMs)).p50Ms,
        resultMessageP50Ms: distribution(baselineRuns.map((run) => run.resultMs)).p50Ms,
      },
      ratio: Math.round((boxSpread.p50Ms / baselineSpread.p50Ms) * 1000) / 1000,
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
