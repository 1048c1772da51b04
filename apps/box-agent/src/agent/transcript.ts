import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { RUN_EVENT_MAX_BYTES, TOOL_RESULT_MAX_CHARS } from "@vps-claude/contract/box-agent";
import type { RunEventPayload } from "../run-store";

/** The contract's bounds on event fields (characters). */
export const TEXT_EVENT_MAX_CHARS = 200_000;
export const ERROR_MAX_CHARS = 20_000;
export const RESULT_MAX_CHARS = 200_000;
const ID_MAX_CHARS = 256;
/** A tool call's input larger than this (as JSON) is replaced by a preview of it. */
export const TOOL_INPUT_MAX_CHARS = 100_000;
/** Room left in an SSE event for its `id:`/`event:` lines and the `seq`/`at`/`type` fields. */
const EVENT_SLACK_BYTES = 4096;

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** What a `tool_use` event's `input` may hold: JSON. */
type ToolInput = Extract<RunEventPayload, { type: "tool_use" }>["input"];

type ContentBlock = { type?: unknown; [key: string]: unknown };

function blocksOf(content: unknown): ContentBlock[] {
  if (typeof content === "string") {
    return [{ type: "text", text: content }];
  }
  return Array.isArray(content)
    ? content.filter((block): block is ContentBlock => typeof block === "object" && block !== null)
    : [];
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** A tool's input as JSON the event can carry: itself when small enough, else a marked preview. */
export function boundToolInput(input: unknown, max = TOOL_INPUT_MAX_CHARS): ToolInput {
  const json = JSON.stringify(input) ?? "null";
  if (json.length <= max) {
    return JSON.parse(json) as ToolInput;
  }
  return { truncated: true, preview: json.slice(0, max) };
}

/** A tool result's content as text: text parts joined, other parts (images, documents) named. */
export function flattenToolResult(content: unknown): string {
  return blocksOf(content)
    .map((block) => (block.type === "text" ? text(block.text) : `[${text(block.type) || "content"}]`))
    .join("\n");
}

function assistantEvents(content: unknown, apiError: string | undefined): RunEventPayload[] {
  const blocks = blocksOf(content);
  if (apiError !== undefined) {
    // The SDK turns a failed model request into an assistant message: an error, not Claude's words.
    const said = blocks
      .filter((block) => block.type === "text")
      .map((block) => text(block.text))
      .join("\n");
    return [
      { type: "error", message: clip(said || `the model request failed: ${apiError}`, ERROR_MAX_CHARS) },
    ];
  }
  const events: RunEventPayload[] = [];
  for (const block of blocks) {
    if (block.type === "text" && text(block.text).trim() !== "") {
      events.push({ type: "text", text: clip(text(block.text), TEXT_EVENT_MAX_CHARS) });
    } else if (block.type === "tool_use") {
      events.push({
        type: "tool_use",
        toolUseId: clip(text(block.id), ID_MAX_CHARS),
        name: clip(text(block.name), ID_MAX_CHARS),
        input: boundToolInput(block.input),
      });
    }
  }
  return events;
}

function toolResultEvents(content: unknown): RunEventPayload[] {
  return blocksOf(content)
    .filter((block) => block.type === "tool_result")
    .map((block) => {
      const full = flattenToolResult(block.content);
      const truncated = full.length > TOOL_RESULT_MAX_CHARS;
      return {
        type: "tool_result",
        toolUseId: clip(text(block.tool_use_id), ID_MAX_CHARS),
        content: truncated ? full.slice(0, TOOL_RESULT_MAX_CHARS) : full,
        isError: block.is_error === true,
        truncated,
      };
    });
}

/**
 * The transcript events one SDK message adds: Claude's text and tool calls from assistant
 * messages, and tool results from the user messages that carry them back. Everything else (init,
 * result, status chatter) is the runner's business or not worth keeping.
 */
export function transcriptEvents(message: SDKMessage): RunEventPayload[] {
  if (message.type === "assistant") {
    return assistantEvents(message.message.content, message.error);
  }
  if (message.type === "user" && !("isReplay" in message && message.isReplay === true)) {
    return toolResultEvents(message.message.content);
  }
  return [];
}

function byteSize(payload: RunEventPayload): number {
  return Buffer.byteLength(JSON.stringify(payload), "utf8");
}

function halve(value: string): string {
  return clip(value, Math.max(1, Math.floor(value.length / 2)));
}

function shrink(payload: RunEventPayload): RunEventPayload {
  switch (payload.type) {
    case "text":
      return { ...payload, text: halve(payload.text) };
    case "tool_use": {
      const json = JSON.stringify(payload.input) ?? "null";
      return { ...payload, input: boundToolInput(payload.input, Math.floor(json.length / 2)) };
    }
    case "tool_result":
      return { ...payload, content: halve(payload.content), truncated: true };
    case "error":
      return { ...payload, message: halve(payload.message) };
    case "done":
      return {
        ...payload,
        run: {
          ...payload.run,
          result: payload.run.result === null ? null : halve(payload.run.result),
          error: payload.run.error === null ? null : halve(payload.run.error),
        },
      };
    default:
      return payload;
  }
}

/**
 * Character bounds keep an event near its limit, but escapes and multi-byte characters can still
 * push its JSON past the bytes the platform reads per event: cut its big text until it fits.
 */
export function fitEventSize(
  payload: RunEventPayload,
  maxBytes = RUN_EVENT_MAX_BYTES - EVENT_SLACK_BYTES,
): RunEventPayload {
  let fitted = payload;
  for (let round = 0; round < 40 && byteSize(fitted) > maxBytes; round++) {
    fitted = shrink(fitted);
  }
  return fitted;
}
