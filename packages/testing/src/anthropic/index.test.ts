import { afterEach, describe, expect, it } from "vitest";
import { type AnthropicConversation, anthropicReply, type FakeAnthropic, startFakeAnthropic } from "./index";

let fake: FakeAnthropic | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(
  respond?: (conversation: AnthropicConversation) => ReturnType<typeof anthropicReply.text> | string,
) {
  fake = await startFakeAnthropic(respond === undefined ? {} : { respond });
  return fake;
}

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .filter((chunk) => chunk.trim() !== "")
    .map((chunk) => {
      const lines = chunk.split("\n");
      const event = lines.find((line) => line.startsWith("event: "))?.slice(7) ?? "";
      const data = lines.find((line) => line.startsWith("data: "))?.slice(6) ?? "{}";
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

const userTurn = (text: string) => ({ role: "user", content: [{ type: "text", text }] });

describe("fake Anthropic Messages API", () => {
  it("with pingWhilePendingMs, sends the headers and pings while a slow answer is pending", async () => {
    let answer: (text: string) => void = () => {};
    fake = await startFakeAnthropic({
      pingWhilePendingMs: 20,
      respond: () => new Promise<string>((resolve) => (answer = resolve)),
    });
    const res = await post(fake.url, {
      model: "claude-test",
      stream: true,
      max_tokens: 10,
      messages: [userTurn("slow")],
    });
    // The headers came before the answer exists: a client waiting for headers is not left hanging.
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    let received = "";
    while ((received.match(/event: ping/g) ?? []).length < 3) {
      const chunk = await reader?.read();
      received += decoder.decode(chunk?.value ?? new Uint8Array());
    }
    answer("finally");
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      received += decoder.decode(chunk.value);
    }
    const events = parseSse(received);
    expect(events[0]?.event).toBe("message_start");
    expect(events.filter((e) => e.event === "ping").length).toBeGreaterThanOrEqual(3);
    const text = events
      .filter((e) => e.event === "content_block_delta")
      .map((e) => (e.data.delta as { text: string }).text)
      .join("");
    expect(text).toBe("finally");
    expect(events.at(-1)?.event).toBe("message_stop");
  });

  it("streams a text answer as Messages API server-sent events and records the request", async () => {
    const server = await start((conversation) => `echo: ${conversation.lastUserText()}`);
    const res = await post(
      server.url,
      { model: "claude-test", stream: true, max_tokens: 100, messages: [userTurn("hi there")] },
      { "x-claude-code-session-id": "session-1" },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = parseSse(await res.text());

    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const { event, data } of events) {
      expect(data.type, "each data payload names its own event").toBe(event);
    }
    const text = events
      .filter((e) => e.event === "content_block_delta")
      .map((e) => (e.data.delta as { text: string }).text)
      .join("");
    expect(text).toBe("echo: hi there");
    expect(events[6]?.data.delta).toMatchObject({ stop_reason: "end_turn" });

    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      path: "/v1/messages",
      search: "?beta=true",
      sessionId: "session-1",
    });
    expect(server.requestsForSession("session-1")).toHaveLength(1);
  });

  it("streams tool calls as input_json_delta with stop_reason tool_use", async () => {
    const server = await start(() =>
      anthropicReply.toolUse("mcp__box__cronjob_create", { name: "daily" }, "On it."),
    );
    const res = await post(server.url, { model: "m", stream: true, messages: [userTurn("schedule")] });
    const events = parseSse(await res.text());

    const starts = events.filter((e) => e.event === "content_block_start").map((e) => e.data.content_block);
    expect(starts).toMatchObject([
      { type: "text" },
      { type: "tool_use", name: "mcp__box__cronjob_create", input: {} },
    ]);
    const json = events
      .filter((e) => e.event === "content_block_delta" && e.data.index === 1)
      .map((e) => (e.data.delta as { type: string; partial_json: string }).partial_json)
      .join("");
    expect(JSON.parse(json)).toEqual({ name: "daily" });
    expect(events.find((e) => e.event === "message_delta")?.data.delta).toMatchObject({
      stop_reason: "tool_use",
    });
  });

  it("answers non-streaming requests with a JSON message", async () => {
    const server = await start(() => ({ text: "plain", usage: { input_tokens: 7, output_tokens: 3 } }));
    const res = await post(server.url, { model: "m", messages: [userTurn("x")] });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      type: "message",
      role: "assistant",
      content: [{ type: "text", text: "plain" }],
      stop_reason: "end_turn",
      usage: { input_tokens: 7, output_tokens: 3 },
    });
  });

  it("reports all four usage counts where the real API does: message_start, message_delta, JSON", async () => {
    const perTurn = { input_tokens: 1234, output_tokens: 567, cache_read_input_tokens: 89 };
    fake = await startFakeAnthropic({ usage: perTurn });
    const streamed = await post(fake.url, { model: "m", stream: true, messages: [userTurn("x")] });
    const events = parseSse(await streamed.text());
    const start = events.find((e) => e.event === "message_start")?.data.message as { usage: unknown };
    expect(start.usage).toEqual({
      input_tokens: 1234,
      output_tokens: 1,
      cache_read_input_tokens: 89,
      cache_creation_input_tokens: 0,
    });
    expect(events.find((e) => e.event === "message_delta")?.data.usage).toEqual({ output_tokens: 567 });

    // A reply's own usage wins field by field over the defaults.
    fake.setResponder(() => ({ text: "json", usage: { output_tokens: 5, cache_creation_input_tokens: 40 } }));
    const json = await post(fake.url, { model: "m", messages: [userTurn("x")] });
    expect(((await json.json()) as { usage: unknown }).usage).toEqual({
      input_tokens: 1234,
      output_tokens: 5,
      cache_read_input_tokens: 89,
      cache_creation_input_tokens: 40,
    });
  });

  it("with pingWhilePendingMs, corrects in message_delta the input counts the start could not know", async () => {
    fake = await startFakeAnthropic({
      pingWhilePendingMs: 20,
      usage: { input_tokens: 100 },
      respond: () => ({ text: "late", usage: { cache_read_input_tokens: 7, output_tokens: 9 } }),
    });
    const res = await post(fake.url, { model: "m", stream: true, messages: [userTurn("x")] });
    const events = parseSse(await res.text());
    const start = events.find((e) => e.event === "message_start")?.data.message as { usage: unknown };
    expect(start.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 0 });
    expect(events.find((e) => e.event === "message_delta")?.data.usage).toEqual({
      cache_read_input_tokens: 7,
      output_tokens: 9,
    });
  });

  it("answers scripted API errors in the Messages API error shape", async () => {
    const server = await start();
    server.setResponder(() => anthropicReply.error(529, "Overloaded"));
    const res = await post(server.url, { model: "m", stream: true, messages: [userTurn("x")] });
    expect(res.status).toBe(529);
    expect(await res.json()).toEqual({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
  });

  it("turns a throwing responder into a 500 so the failure is visible", async () => {
    const server = await start();
    server.setResponder(() => {
      throw new Error("script bug");
    });
    const res = await post(server.url, { model: "m", messages: [userTurn("x")] });
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).toContain("script bug");
  });

  it("answers 404 for other paths and 400 for bodies without messages", async () => {
    const server = await start();
    const other = await fetch(`${server.url}/v1/models`);
    expect(other.status).toBe(404);
    const bad = await post(server.url, { model: "m" });
    expect(bad.status).toBe(400);
    expect(server.messageRequests()).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });
});

describe("AnthropicConversation helpers", () => {
  it("drops system entries, skips reminders and pairs tool results with their calls", async () => {
    let seen: AnthropicConversation | undefined;
    const server = await start((conversation) => {
      seen = conversation;
      return "ok";
    });
    await post(server.url, {
      model: "m",
      system: [{ type: "text", text: "You are a box." }],
      tools: [{ name: "mcp__box-agent__cronjob_create" }, { name: "Bash" }],
      messages: [
        { role: "system", content: "newer models put system text here" },
        {
          role: "user",
          content: [
            { type: "text", text: "<system-reminder>\ncontext\n</system-reminder>" },
            { type: "text", text: "make a job" },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Sure." },
            { type: "tool_use", id: "toolu_1", name: "mcp__box-agent__cronjob_create", input: { name: "a" } },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_1",
              content: [{ type: "text", text: "created cron_1" }],
            },
          ],
        },
      ],
    });

    expect(seen).toBeDefined();
    const conversation = seen as AnthropicConversation;
    expect(conversation.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(conversation.system).toBe("You are a box.");
    expect(conversation.lastUserText()).toBe("make a job");
    expect(conversation.assistantTexts()).toEqual(["Sure."]);
    expect(conversation.hasPendingToolResults()).toBe(true);
    expect(conversation.pendingToolResults()).toEqual([
      {
        toolUseId: "toolu_1",
        toolName: "mcp__box-agent__cronjob_create",
        text: "created cron_1",
        isError: false,
      },
    ]);
    expect(conversation.lastToolResult("cronjob_create")?.text).toBe("created cron_1");
    expect(conversation.findTool("cronjob_create")).toBe("mcp__box-agent__cronjob_create");
    expect(conversation.findTool("email_send")).toBeUndefined();
  });
});
