import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BoxAgentConfig, loadConfig } from "../config";
import { buildClaudeOptions } from "./claude-options";

let home: string;
let config: BoxAgentConfig;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "box-agent-options-"));
  mkdirSync(join(home, ".box-agent"));
  writeFileSync(
    join(home, ".box-agent", "config.json"),
    JSON.stringify({ boxId: "box_1", boxSecret: "ab".repeat(32), serverUrl: "https://platform.example" }),
  );
  config = loadConfig({ BOX_AGENT_HOME: home, PATH: "/usr/bin" });
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

const optionsFor = (agent: Partial<Parameters<typeof buildClaudeOptions>[0]["agent"]>) =>
  buildClaudeOptions({
    config,
    runId: "run_1",
    agent: { model: "claude-sonnet-4-5", systemPrompt: "Be brief.", mcpServers: {}, ...agent },
    userEnv: {},
    installedSkills: [],
    mcpCommand: { command: "/usr/bin/node", args: ["box-agent.mjs", "mcp"] },
    session: { newSessionId: "00000000-0000-4000-8000-000000000000" },
    abortController: new AbortController(),
    spawnClaudeCodeProcess: () => {
      throw new Error("not spawned in this test");
    },
  });

describe("buildClaudeOptions: the run's own limits", () => {
  it("passes the agent config's maxBudgetUsd and maxTurns to the SDK", () => {
    const options = optionsFor({ maxBudgetUsd: 2.5, maxTurns: 7 });
    expect(options.maxBudgetUsd).toBe(2.5);
    expect(options.maxTurns).toBe(7);
  });

  it("sets neither when the dispatch has none (no limit)", () => {
    const options = optionsFor({});
    expect("maxBudgetUsd" in options).toBe(false);
    expect("maxTurns" in options).toBe(false);
  });
});
