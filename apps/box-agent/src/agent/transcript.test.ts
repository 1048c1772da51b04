import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { RUN_EVENT_MAX_BYTES, runEventSchema, TOOL_RESULT_MAX_CHARS } from "@vps-claude/contract/box-agent";
import { describe, expect, it } from "vitest";
import { fitEventSize, TOOL_INPUT_MAX_CHARS, transcriptEvents } from "./transcript";

/** SDK messages as the CLI yields them, reduced to the fields the transcript reads. */
const assistant = (content: unknown[], error?: string) =>
  ({ type: "assistant", message: { content }, parent_tool_use_id: null, error }) as unknown as SDKMessage;
const user = (content: unknown) =>
  ({ type: "user", message: { role: "user", content }, parent_tool_use_id: null }) as unknown as SDKMessage;

/** An event as it would be sent: checked against the contract. */
const asSent = (payload: object) => runEventSchema.parse({ seq: 1, at: "2026-01-01T00:00:00Z", ...payload });

describe("transcriptEvents", () => {
  it("takes Claude's text and tool calls, skipping empty text and thinking", () => {
    const events = transcriptEvents(
      assistant([
        { type: "thinking", thinking: "hmm" },
        { type: "text", text: "  " },
        { type: "text", text: "Let me look." },
        { type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "ls" } },
      ]),
    );
    expect(events).toEqual([
      { type: "text", text: "Let me look." },
      { type: "tool_use", toolUseId: "toolu_1", name: "Bash", input: { command: "ls" } },
    ]);
    for (const event of events) {
      asSent(event);
    }
  });

  it("flattens tool results to text, trimmed to the contract's bound", () => {
    const long = "x".repeat(TOOL_RESULT_MAX_CHARS + 10);
    const events = transcriptEvents(
      user([
        {
          type: "tool_result",
          tool_use_id: "toolu_1",
          content: [{ type: "text", text: "a" }, { type: "image" }],
        },
        { type: "tool_result", tool_use_id: "toolu_2", content: long, is_error: true },
        { type: "text", text: "not a result" },
      ]),
    );
    expect(events).toEqual([
      { type: "tool_result", toolUseId: "toolu_1", content: "a\n[image]", isError: false, truncated: false },
      {
        type: "tool_result",
        toolUseId: "toolu_2",
        content: long.slice(0, TOOL_RESULT_MAX_CHARS),
        isError: true,
        truncated: true,
      },
    ]);
    asSent(events[1] ?? {});
  });

  it("replaces a huge tool input by a marked preview, and shows a failed model request as an error", () => {
    const [call] = transcriptEvents(
      assistant([
        { type: "tool_use", id: "t", name: "Write", input: { content: "y".repeat(TOOL_INPUT_MAX_CHARS) } },
      ]),
    );
    expect(call).toMatchObject({ type: "tool_use", input: { truncated: true } });
    expect(JSON.stringify(call).length).toBeLessThan(TOOL_INPUT_MAX_CHARS + 500);

    expect(
      transcriptEvents(assistant([{ type: "text", text: "API Error: 529 overloaded" }], "server_error")),
    ).toEqual([{ type: "error", message: "API Error: 529 overloaded" }]);
  });
});

describe("fitEventSize", () => {
  it("cuts an event whose JSON would pass the bytes the platform reads per event", () => {
    const result = "é\u0001".repeat(150_000);
    const fitted = fitEventSize({
      type: "done",
      run: {
        status: "completed",
        sessionId: null,
        result,
        error: null,
        durationMs: 1,
        costUsd: null,
        inputTokens: null,
        outputTokens: null,
        cacheReadTokens: null,
        cacheWriteTokens: null,
      },
    });
    const sent = asSent(fitted);
    expect(Buffer.byteLength(JSON.stringify(sent))).toBeLessThan(RUN_EVENT_MAX_BYTES);
    expect(sent.type === "done" && sent.run.result?.startsWith("é\u0001")).toBe(true);
    expect(fitEventSize({ type: "text", text: "small" })).toEqual({ type: "text", text: "small" });
  });
});
