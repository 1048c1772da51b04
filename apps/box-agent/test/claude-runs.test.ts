import { mkdirSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { anthropicReply, type FakeAnthropic, scriptedClaude } from "@vps-claude/testing";
import { describe, expect, it, vi } from "vitest";
import type { McpCommand } from "../src/agent/claude-options";
import type { RunOutcome } from "../src/agent/runner";
import { BOX_AGENT_TOOLS, qualifiedToolName } from "../src/mcp/tool-names";
import { SessionStore } from "../src/session-store";
import { defaultAgentConfig, type FakePlatform } from "./fake-platform";
import { type TestBox, useClaudeBox } from "./harness";

/**
 * The real Agent SDK and Claude Code CLI, against a scripted fake Messages API and a fake platform.
 * The fake model decides from the latest prompt's keyword, and answers tool results by quoting them.
 */
const script = scriptedClaude({
  rules: [
    {
      when: "SCHEDULE",
      reply: anthropicReply.toolUse(
        qualifiedToolName("cronjob_create"),
        {
          name: "Morning digest",
          schedule: "0 9 * * *",
          prompt: "Summarize the news",
          timezone: "Europe/Paris",
        },
        "Scheduling it.",
      ),
    },
    {
      when: "EMAIL",
      reply: anthropicReply.toolUse(qualifiedToolName("email_send"), {
        to: "friend@example.com",
        subject: "Hi",
        body: "Hello **there**",
      }),
    },
    { when: "EXTRA", reply: anthropicReply.toolUse("mcp__extra__cronjob_list", {}) },
    { when: "FAIL", reply: anthropicReply.error(529, "the fake API is overloaded") },
  ],
});

/** Pids of live processes whose working directory is `dir` (Linux /proc). */
function processesWorkingIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === dir) {
        pids.push(Number(entry));
      }
    } catch {
      // Gone meanwhile, or not ours to inspect.
    }
  }
  return pids;
}

let fake: FakeAnthropic;
let platform: FakePlatform;
let bundle: { dir: string; mcpCommand: McpCommand };
let box: TestBox;

useClaudeBox(script, (env) => {
  ({ fake, platform, bundle, box } = env);
});

async function send(body: Record<string, unknown>, path = "/sessions/send"): Promise<RunOutcome> {
  const res = await box.request(path, { body });
  const outcome = (await res.json()) as RunOutcome;
  expect(res.status, JSON.stringify(outcome)).toBe(200);
  return outcome;
}

interface ListedContext {
  contextType: string;
  contextId: string;
  sessionId: string | null;
  runs: Array<Record<string, unknown>>;
}

async function listSessions(): Promise<ListedContext[]> {
  const res = await box.request("/sessions/list");
  expect(res.status).toBe(200);
  return ((await res.json()) as { sessions: ListedContext[] }).sessions;
}

describe("box-agent runs with the real Claude Code CLI", () => {
  it("answers a message in a new session and records the run", async () => {
    const outcome = await send({ contextId: "chat-1", message: "hello box" });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      status: "completed",
      result: "You said: hello box",
    });
    expect(outcome.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(outcome.costUsd).toBeGreaterThan(0);

    const requests = fake.messageRequests();
    expect(requests.length).toBeGreaterThan(0);
    const request = requests.at(-1);
    expect(request?.sessionId).toBe(outcome.sessionId);
    // Claude's only key is the box's own token (the platform's gateway swaps in the real one),
    // and each model request names its run.
    expect(request?.headers["x-api-key"]).toBe(platform.boxSecret);
    expect(request?.headers["x-vps-run-id"]).toBe(outcome.runId);
    expect(request?.conversation.system).toContain("You are the agent of a test box (session).");
    // The run offers exactly our MCP tools and the configured built-ins.
    const offered = request?.conversation.toolNames ?? [];
    for (const tool of BOX_AGENT_TOOLS) {
      expect(offered).toContain(qualifiedToolName(tool));
    }
    expect(offered).toContain("Bash");
    expect(offered).not.toContain("Agent");
    expect(offered).not.toContain("Task");

    const configRequest = platform.requests.find((r) => r.path === "/box/agent-config");
    expect(configRequest?.query.get("triggerType")).toBe("session");
    expect(configRequest?.headers["x-box-secret"]).toBe(platform.boxSecret);

    const [context] = await listSessions();
    expect(context).toMatchObject({
      contextType: "session",
      contextId: "chat-1",
      sessionId: outcome.sessionId,
    });
    expect(context?.runs[0]).toMatchObject({
      id: outcome.runId,
      status: "completed",
      prompt: "hello box",
      result: "You said: hello box",
      error: null,
    });
    expect(context?.runs[0]?.inputTokens).toBeGreaterThan(0);
  });

  it("resumes the session of a context for its next message, with the earlier turns", async () => {
    const first = await send({ contextId: "chat-2", message: "my name is Ada" });
    fake.clearRequests();
    const second = await send({ contextId: "chat-2", message: "what is my name?" });

    expect(second.status, JSON.stringify(second)).toBe("completed");
    expect(second.sessionId).toBe(first.sessionId);
    const conversation = fake.messageRequests().at(-1)?.conversation;
    expect(conversation?.userTexts()).toEqual(["my name is Ada", "what is my name?"]);
    expect(conversation?.assistantTexts()).toContain("You said: my name is Ada");
    // Costs are per run, not the session's running total.
    expect(second.costUsd).toBeGreaterThan(0);

    const other = await send({ contextId: "chat-3", message: "hello" });
    expect(other.sessionId).not.toBe(first.sessionId);
  });

  it("runs messages of one context one after another", async () => {
    const [a, b] = await Promise.all([
      send({ contextId: "chat-4", message: "first message" }),
      send({ contextId: "chat-4", message: "second message" }),
    ]);
    expect([a.status, b.status]).toEqual(["completed", "completed"]);
    expect(b.sessionId).toBe(a.sessionId);
    // Had the runs overlapped, each would have seen only its own prompt.
    const lastConversation = fake.messageRequests().at(-1)?.conversation;
    expect(lastConversation?.userTexts()).toHaveLength(2);
  });

  it("lets Claude create a cronjob through the platform's box API", async () => {
    const outcome = await send({ contextId: "chat-5", message: "SCHEDULE a morning digest" });
    expect(outcome.status, JSON.stringify(outcome)).toBe("completed");

    const create = platform.requests.find((r) => r.method === "POST" && r.path === "/box/cronjobs");
    expect(create, "the platform received the create").toBeDefined();
    expect(create?.headers["x-box-secret"]).toBe(platform.boxSecret);
    expect(create?.body).toEqual({
      name: "Morning digest",
      schedule: "0 9 * * *",
      prompt: "Summarize the news",
      timezone: "Europe/Paris",
    });
    expect([...platform.cronjobs.values()]).toMatchObject([{ id: "cron_1", name: "Morning digest" }]);
    expect(outcome.result).toContain(
      `${qualifiedToolName("cronjob_create")} answered: Created cronjob cron_1`,
    );
  });

  it("lets Claude send a new email through the platform's box API", async () => {
    const outcome = await send({ contextId: "chat-6", message: "EMAIL my friend" });
    expect(outcome.status, JSON.stringify(outcome)).toBe("completed");
    const request = platform.requests.find((r) => r.method === "POST" && r.path === "/box/email/send");
    expect(request?.headers["x-box-secret"]).toBe(platform.boxSecret);
    expect(request?.body).toEqual({ to: ["friend@example.com"], subject: "Hi", body: "Hello **there**" });
    const result = fake.messageRequests().at(-1)?.conversation.lastToolResult("email_send");
    expect(result?.isError, result?.text).toBe(false);
    expect(result?.text).toContain('Email queued for sending: email_out1 "Hi" to friend@example.com');
  });

  it("lists the skills installed in the box at the end of the system prompt", async () => {
    const skillDir = join(box.home, ".claude", "skills", "note-keeper");
    mkdirSync(skillDir, { recursive: true });
    writeFileSync(
      join(skillDir, "SKILL.md"),
      "---\nname: note-keeper\ndescription: Keep durable notes in ~/notes/.\n---\n\n# Note keeper\n",
    );
    const outcome = await send({ contextId: "chat-12", message: "hello" });
    expect(outcome.status, JSON.stringify(outcome)).toBe("completed");
    const system = fake.messageRequests().at(-1)?.conversation.system ?? "";
    expect(system).toContain("You are the agent of a test box (session).");
    expect(system).toContain(
      `## Skills installed in this box\n\n- note-keeper: Keep durable notes in ~/notes/. (instructions: ${join(skillDir, "SKILL.md")} — read it with the Read tool before using the skill)`,
    );
    expect(system.indexOf("Skills installed")).toBeGreaterThan(system.indexOf("You are the agent"));
  });

  it("records a failed run with the API's reason", async () => {
    const outcome = await send({ contextId: "chat-7", message: "FAIL please" });
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toContain("the fake API is overloaded");
    expect(outcome.result).toBeNull();

    const [context] = await listSessions();
    expect(context?.runs[0]).toMatchObject({ status: "failed", prompt: "FAIL please" });
    expect(String(context?.runs[0]?.error)).toContain("the fake API is overloaded");
  });

  it("runs a cron trigger in the cronjob's own context with the cron agent config", async () => {
    const outcome = await send(
      { cronjobId: "cron_42", name: "Digest", prompt: "collect headlines" },
      "/cron/trigger",
    );
    expect(outcome.status, JSON.stringify(outcome)).toBe("completed");
    expect(outcome.result).toContain("collect headlines");
    expect(outcome.result).toContain('Scheduled task "Digest" (cron_42)');

    const configRequest = platform.requests.find((r) => r.path === "/box/agent-config");
    expect(configRequest?.query.get("triggerType")).toBe("cron");
    expect(fake.messageRequests().at(-1)?.conversation.system).toContain("test box (cron)");
    const [context] = await listSessions();
    expect(context).toMatchObject({
      contextType: "cron",
      contextId: "cron_42",
      sessionId: outcome.sessionId,
    });
  });

  it("starts a new session and says so when the stored one cannot be resumed", async () => {
    const store = SessionStore.open(box.config.paths.database);
    store.saveSession("session", "chat-8", "00000000-0000-4000-8000-000000000000");
    store.close();

    const outcome = await send({ contextId: "chat-8", message: "are you there?" });
    expect(outcome.status, JSON.stringify(outcome)).toBe("completed");
    expect(outcome.result).toBe("You said: are you there?");
    expect(outcome.note).toContain("could not be resumed");
    expect(outcome.sessionId).not.toBe("00000000-0000-4000-8000-000000000000");

    const [context] = await listSessions();
    expect(context?.sessionId).toBe(outcome.sessionId);
    expect(context?.runs[0]?.note).toContain("started a new session");
  });

  it("fails the run with the platform's message when the agent config cannot be fetched", async () => {
    platform.setAgentConfig(() => ({
      status: 503,
      body: { code: "UNAVAILABLE", message: "database is down" },
    }));
    const outcome = await send({ contextId: "chat-9", message: "hello" });
    expect(outcome).toMatchObject({ status: "failed", sessionId: null, result: null });
    expect(outcome.error).toBe("could not prepare the run: database is down");
    expect(fake.messageRequests()).toHaveLength(0);
  });

  it("gives Claude the MCP servers of the agent config, allowed to run", async () => {
    platform.setAgentConfig((triggerType) => {
      const answer = defaultAgentConfig(triggerType);
      return {
        ...answer,
        body: {
          ...(answer.body as object),
          mcpServers: {
            // Another copy of our own server stands in for a user-configured one.
            extra: {
              type: "stdio",
              command: bundle.mcpCommand.command,
              args: bundle.mcpCommand.args,
              env: {
                BOX_AGENT_HOME: box.home,
                BOX_ID: platform.boxId,
                BOX_SECRET: platform.boxSecret,
                SERVER_URL: platform.url,
              },
            },
          },
        },
      };
    });
    const outcome = await send({ contextId: "chat-10", message: "EXTRA tools" });
    expect(outcome.status, JSON.stringify(outcome)).toBe("completed");
    expect(outcome.result).toBe("mcp__extra__cronjob_list answered: This box has no cronjobs.");
  });

  it("aborts running Claude runs on shutdown and records them as failed", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake.setResponder(async () => {
      await held;
      return "too late";
    });
    const pending = box.request("/sessions/send", { body: { contextId: "chat-11", message: "slow" } });
    await vi.waitFor(() => expect(fake.messageRequests().length).toBeGreaterThan(0), { timeout: 20_000 });

    await box.stop();
    // Nothing the run started may outlive the daemon: no CLI finishing its turn, no MCP server.
    expect(processesWorkingIn(box.home)).toEqual([]);
    const outcome = (await (await pending).json()) as RunOutcome;
    release();
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toContain("shutting down");

    const store = SessionStore.open(box.config.paths.database);
    expect(store.getRun(outcome.runId)).toMatchObject({ status: "failed" });
    expect(store.failInterruptedRuns()).toBe(0);
    store.close();
  });
});
