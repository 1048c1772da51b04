import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunCreateInput } from "@vps-claude/contract/box-agent";
import { anthropicReply, type FakeAnthropic, scriptedClaude } from "@vps-claude/testing";
import { describe, expect, it } from "vitest";
import type { McpCommand } from "../src/agent/claude-options";
import { BOX_AGENT_TOOLS, qualifiedToolName } from "../src/mcp/tool-names";
import { SessionStore } from "../src/session-store";
import type { FakePlatform } from "./fake-platform";
import { type TestBox, useClaudeBox } from "./harness";
import { getRun, runRequest, runToEnd, testAgent } from "./runs";

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

let fake: FakeAnthropic;
let platform: FakePlatform;
let bundle: { dir: string; mcpCommand: McpCommand };
let box: TestBox;

useClaudeBox(script, (env) => {
  ({ fake, platform, bundle, box } = env);
});

/** Runs a chat message in a context and answers how the run ended. */
async function send(contextId: string, message: string, overrides: Partial<RunCreateInput> = {}) {
  const { runId, events, end } = await runToEnd(box, runRequest({ contextId, message, ...overrides }));
  return { runId, events, ...end };
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

describe("box-agent runs with the real Claude Code CLI", { timeout: 120_000 }, () => {
  it("answers a message in a new session with the dispatched agent config, and records the run", async () => {
    const outcome = await send("chat-1", "hello box");
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      status: "completed",
      result: "You said: hello box",
      error: null,
    });
    expect(outcome.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(outcome.costUsd).toBeGreaterThan(0);
    expect(outcome.inputTokens).toBeGreaterThan(0);

    const requests = fake.messageRequests();
    expect(requests.length).toBeGreaterThan(0);
    const request = requests.at(-1);
    expect(request?.sessionId).toBe(outcome.sessionId);
    // Claude's only key is the box's own token (the platform's gateway swaps in the real one),
    // and each model request names the run the platform dispatched.
    expect(request?.headers["x-api-key"]).toBe(platform.boxSecret);
    expect(request?.headers["x-vps-run-id"]).toBe(outcome.runId);
    expect(request?.body.model).toBe("claude-sonnet-4-5");
    expect(request?.conversation.system).toContain("You are the agent of a test box (chat).");
    // The run offers exactly our MCP tools and the configured built-ins.
    const offered = request?.conversation.toolNames ?? [];
    for (const tool of BOX_AGENT_TOOLS) {
      expect(offered).toContain(qualifiedToolName(tool));
    }
    expect(offered).toContain("Bash");
    expect(offered).not.toContain("Agent");
    expect(offered).not.toContain("Task");
    // The dispatch carried the agent config: the run never called back to the platform.
    expect(platform.requests.map((r) => r.path)).not.toContain("/box/agent-config");

    expect(outcome.events.map((e) => e.type)).toEqual(["status", "status", "status", "text", "done"]);
    expect(outcome.events.slice(0, 3)).toMatchObject([
      { status: "queued", sessionId: null },
      { status: "running", sessionId: null },
      { status: "running", sessionId: outcome.sessionId },
    ]);
    expect(outcome.events[3]).toMatchObject({ type: "text", text: "You said: hello box" });

    expect(await getRun(box, outcome.runId)).toMatchObject({
      id: outcome.runId,
      trigger: "chat",
      status: "completed",
      sessionId: outcome.sessionId,
      result: "You said: hello box",
      lastSeq: outcome.events.length,
    });
    const [context] = await listSessions();
    expect(context).toMatchObject({
      contextType: "session",
      contextId: "chat-1",
      sessionId: outcome.sessionId,
    });
    expect(context?.runs[0]).toMatchObject({
      id: outcome.runId,
      trigger: "chat",
      status: "completed",
      prompt: "hello box",
      result: "You said: hello box",
      error: null,
    });
  });

  it("resumes the session of a context for its next message, with the earlier turns", async () => {
    const first = await send("chat-2", "my name is Ada");
    fake.clearRequests();
    const second = await send("chat-2", "what is my name?");

    expect(second.status, JSON.stringify(second)).toBe("completed");
    expect(second.sessionId).toBe(first.sessionId);
    const conversation = fake.messageRequests().at(-1)?.conversation;
    expect(conversation?.userTexts()).toEqual(["my name is Ada", "what is my name?"]);
    expect(conversation?.assistantTexts()).toContain("You said: my name is Ada");
    // Costs are per run, not the session's running total.
    expect(second.costUsd).toBeGreaterThan(0);

    const other = await send("chat-3", "hello");
    expect(other.sessionId).not.toBe(first.sessionId);
  });

  it("runs messages of one context one after another", async () => {
    const [a, b] = await Promise.all([send("chat-4", "first message"), send("chat-4", "second message")]);
    expect([a.status, b.status]).toEqual(["completed", "completed"]);
    expect(b.sessionId).toBe(a.sessionId);
    // Had the runs overlapped, each would have seen only its own prompt.
    const lastConversation = fake.messageRequests().at(-1)?.conversation;
    expect(lastConversation?.userTexts()).toHaveLength(2);
  });

  it("lets Claude create a cronjob through the platform's box API", async () => {
    const outcome = await send("chat-5", "SCHEDULE a morning digest");
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
    const outcome = await send("chat-6", "EMAIL my friend");
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
    const outcome = await send("chat-12", "hello");
    expect(outcome.status, JSON.stringify(outcome)).toBe("completed");
    const system = fake.messageRequests().at(-1)?.conversation.system ?? "";
    expect(system).toContain("You are the agent of a test box (chat).");
    expect(system).toContain(
      `## Skills installed in this box\n\n- note-keeper: Keep durable notes in ~/notes/. (instructions: ${join(skillDir, "SKILL.md")} — read it with the Read tool before using the skill)`,
    );
    expect(system.indexOf("Skills installed")).toBeGreaterThan(system.indexOf("You are the agent"));
  });

  it("records a failed run with the API's reason, in its transcript too", async () => {
    const outcome = await send("chat-7", "FAIL please");
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toContain("the fake API is overloaded");
    expect(outcome.result).toBeNull();
    const errors = outcome.events.filter((e) => e.type === "error");
    expect(errors.length, JSON.stringify(outcome.events)).toBeGreaterThan(0);
    expect(JSON.stringify(errors)).toContain("the fake API is overloaded");

    const [context] = await listSessions();
    expect(context?.runs[0]).toMatchObject({ status: "failed", prompt: "FAIL please" });
    expect(String(context?.runs[0]?.error)).toContain("the fake API is overloaded");
  });

  it("runs a cron task in the cronjob's own context, told it is a scheduled task", async () => {
    const outcome = await send("cron_42", "unused", {
      trigger: "cron",
      contextType: "cron",
      task: {
        kind: "cron",
        cronjobId: "cron_42",
        name: "Digest",
        prompt: "collect headlines",
        scheduledFor: "2026-03-01T09:00:00Z",
      },
      agent: testAgent("cron"),
    });
    expect(outcome.status, JSON.stringify(outcome)).toBe("completed");
    expect(outcome.result).toContain("collect headlines");
    expect(outcome.result).toContain(
      'Scheduled task "Digest" (cron_42) triggered at 2026-03-01T09:00:00.000Z',
    );
    expect(fake.messageRequests().at(-1)?.conversation.system).toContain("test box (cron)");
    const [context] = await listSessions();
    expect(context).toMatchObject({
      contextType: "cron",
      contextId: "cron_42",
      sessionId: outcome.sessionId,
    });
    expect(context?.runs[0]).toMatchObject({ trigger: "cron" });
  });

  it("starts a new session and says so when the stored one cannot be resumed", async () => {
    const store = SessionStore.open(box.config.paths.database);
    store.saveSession("session", "chat-8", "00000000-0000-4000-8000-000000000000");
    store.close();

    const outcome = await send("chat-8", "are you there?");
    expect(outcome.status, JSON.stringify(outcome)).toBe("completed");
    expect(outcome.result).toBe("You said: are you there?");
    expect(outcome.sessionId).not.toBe("00000000-0000-4000-8000-000000000000");
    expect(outcome.events).toContainEqual(
      expect.objectContaining({ type: "error", message: expect.stringContaining("could not be resumed") }),
    );

    const [context] = await listSessions();
    expect(context?.sessionId).toBe(outcome.sessionId);
    expect(context?.runs[0]?.note).toContain("started a new session");
  });

  it("gives Claude the MCP servers of the dispatched agent config, allowed to run", async () => {
    const outcome = await send("chat-10", "EXTRA tools", {
      agent: {
        ...testAgent(),
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
    });
    expect(outcome.status, JSON.stringify(outcome)).toBe("completed");
    expect(outcome.result).toBe("mcp__extra__cronjob_list answered: This box has no cronjobs.");
  });
});
