/** The part of a Messages API request body the fake reads; everything else is kept verbatim in `raw`. */
export interface MessagesRequestBody {
  model?: string;
  system?: string | Array<{ type: string; text?: string }>;
  messages?: AnthropicMessage[];
  tools?: Array<{ name: string; description?: string; input_schema?: unknown }>;
  stream?: boolean;
  max_tokens?: number;
  [key: string]: unknown;
}

export interface AnthropicMessage {
  role: string;
  content: string | AnthropicContentBlock[];
}

export type AnthropicContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | {
      type: "tool_result";
      tool_use_id: string;
      content?: string | Array<{ type: string; text?: string }>;
      is_error?: boolean;
    }
  | { type: string; [key: string]: unknown };

export interface AnthropicToolResult {
  toolUseId: string;
  /** Name of the tool the matching `tool_use` block called; undefined when the call is not in the conversation. */
  toolName: string | undefined;
  /** The result's text blocks joined by newlines, without Claude Code's reminders and trailing whitespace. */
  text: string;
  isError: boolean;
}

export interface AnthropicToolCall {
  id: string;
  name: string;
  input: unknown;
}

/**
 * Claude Code adds its own context to user turns as `<system-reminder>` text blocks; a responder
 * that asks "what did the user say" wants the prompt, not those.
 */
function isReminder(text: string): boolean {
  return text.trimStart().startsWith("<system-reminder>");
}

function blocksOf(message: AnthropicMessage): AnthropicContentBlock[] {
  return typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
}

function isTextBlock(block: AnthropicContentBlock): block is { type: "text"; text: string } {
  return block.type === "text" && typeof (block as { text?: unknown }).text === "string";
}

function isToolUseBlock(
  block: AnthropicContentBlock,
): block is { type: "tool_use"; id: string; name: string; input: unknown } {
  return block.type === "tool_use" && typeof (block as { name?: unknown }).name === "string";
}

function isToolResultBlock(
  block: AnthropicContentBlock,
): block is Extract<AnthropicContentBlock, { type: "tool_result" }> {
  return block.type === "tool_result" && typeof (block as { tool_use_id?: unknown }).tool_use_id === "string";
}

function toolResultText(content: Extract<AnthropicContentBlock, { type: "tool_result" }>["content"]): string {
  if (content === undefined) {
    return "";
  }
  if (typeof content === "string") {
    return content;
  }
  // Claude Code ends the tool's own text with a newline when it appends a reminder block after it.
  return content
    .filter((part) => part.type === "text" && typeof part.text === "string" && !isReminder(part.text))
    .map((part) => part.text)
    .join("\n")
    .trimEnd();
}

/**
 * A read-only view of one request's conversation with the questions scripted responders ask.
 * `role: 'system'` entries (newer model ids carry them inside `messages`) are dropped up front.
 */
export class AnthropicConversation {
  readonly messages: AnthropicMessage[];
  readonly body: MessagesRequestBody;

  constructor(body: MessagesRequestBody) {
    this.body = body;
    this.messages = (body.messages ?? []).filter((message) => message.role !== "system");
  }

  /** The system prompt as plain text, whether it came as a string or as text blocks. */
  get system(): string {
    const { system } = this.body;
    if (system === undefined) {
      return "";
    }
    if (typeof system === "string") {
      return system;
    }
    return system.map((block) => block.text ?? "").join("\n");
  }

  /** Names of the tools offered to the model in this request. */
  get toolNames(): string[] {
    return (this.body.tools ?? []).map((tool) => tool.name);
  }

  get lastMessage(): AnthropicMessage | undefined {
    return this.messages.at(-1);
  }

  /** Every text the user typed, oldest first, without Claude Code's system reminders. */
  userTexts(): string[] {
    const texts: string[] = [];
    for (const message of this.messages) {
      if (message.role !== "user") {
        continue;
      }
      for (const block of blocksOf(message)) {
        if (isTextBlock(block) && !isReminder(block.text)) {
          texts.push(block.text);
        }
      }
    }
    return texts;
  }

  /** The most recent user text (not a tool result, not a system reminder). */
  lastUserText(): string | undefined {
    return this.userTexts().at(-1);
  }

  /** Every text the assistant said, oldest first. */
  assistantTexts(): string[] {
    const texts: string[] = [];
    for (const message of this.messages) {
      if (message.role !== "assistant") {
        continue;
      }
      for (const block of blocksOf(message)) {
        if (isTextBlock(block)) {
          texts.push(block.text);
        }
      }
    }
    return texts;
  }

  /** Every tool call the assistant made so far, oldest first. */
  toolCalls(): AnthropicToolCall[] {
    const calls: AnthropicToolCall[] = [];
    for (const message of this.messages) {
      if (message.role !== "assistant") {
        continue;
      }
      for (const block of blocksOf(message)) {
        if (isToolUseBlock(block)) {
          calls.push({ id: block.id, name: block.name, input: block.input });
        }
      }
    }
    return calls;
  }

  /** Tool results in the whole conversation, oldest first, each matched with the tool it answers. */
  toolResults(): AnthropicToolResult[] {
    const names = new Map(this.toolCalls().map((call) => [call.id, call.name]));
    const results: AnthropicToolResult[] = [];
    for (const message of this.messages) {
      if (message.role !== "user") {
        continue;
      }
      for (const block of blocksOf(message)) {
        if (isToolResultBlock(block)) {
          results.push({
            toolUseId: block.tool_use_id,
            toolName: names.get(block.tool_use_id),
            text: toolResultText(block.content),
            isError: block.is_error === true,
          });
        }
      }
    }
    return results;
  }

  /** Tool results carried by the last message: what the model is answering right now. */
  pendingToolResults(): AnthropicToolResult[] {
    const last = this.lastMessage;
    if (last === undefined || last.role !== "user") {
      return [];
    }
    const ids = new Set(
      blocksOf(last)
        .filter(isToolResultBlock)
        .map((block) => block.tool_use_id),
    );
    return this.toolResults().filter((result) => ids.has(result.toolUseId));
  }

  /** True when the last message answers tool calls, i.e. the model is mid-turn rather than facing a new prompt. */
  hasPendingToolResults(): boolean {
    return this.pendingToolResults().length > 0;
  }

  /** The latest result of a call to a tool whose name is `name` or ends with `__name` (MCP tools are `mcp__server__tool`). */
  lastToolResult(name: string): AnthropicToolResult | undefined {
    return this.toolResults()
      .filter((result) => result.toolName === name || result.toolName?.endsWith(`__${name}`) === true)
      .at(-1);
  }

  /** The full name of an offered tool matching `name` exactly or as `mcp__<server>__name`. */
  findTool(name: string): string | undefined {
    return this.toolNames.find((tool) => tool === name || tool.endsWith(`__${name}`));
  }
}
