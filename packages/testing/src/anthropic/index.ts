import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AnthropicConversation, type MessagesRequestBody } from "./conversation";

export type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicToolCall,
  AnthropicToolResult,
  MessagesRequestBody,
} from "./conversation";
export { AnthropicConversation } from "./conversation";

export interface AnthropicToolUse {
  name: string;
  input: unknown;
  /** Defaults to a fresh `toolu_…` id. */
  id?: string;
}

/** Token counts as the Messages API reports them; `input_tokens` excludes the cached parts. */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** A model answer: text and/or tool calls, in that order. With tool calls the stop reason is `tool_use`. */
export interface AnthropicMessageReply {
  text?: string;
  toolUses?: AnthropicToolUse[];
  usage?: Partial<AnthropicUsage>;
}

/** An API error answered instead of a message, in the Messages API's error shape. */
export interface AnthropicErrorReply {
  error: { status: number; type?: string; message: string };
}

/** A plain string is shorthand for `{ text }`. */
export type AnthropicReply = string | AnthropicMessageReply | AnthropicErrorReply;

export interface AnthropicRequest {
  method: string;
  /** Path without the query string (the CLI calls `/v1/messages?beta=true`). */
  path: string;
  search: string;
  headers: Record<string, string>;
  /** Claude Code's `x-claude-code-session-id` header, when sent. */
  sessionId: string | undefined;
  body: MessagesRequestBody;
  conversation: AnthropicConversation;
  /** What the fake answered, once it did. */
  reply?: AnthropicReply;
}

export type AnthropicResponder = (
  conversation: AnthropicConversation,
  request: AnthropicRequest,
) => AnthropicReply | Promise<AnthropicReply>;

export interface StartFakeAnthropicOptions {
  /** Decides each answer; defaults to replying "OK". Replace later with `setResponder`. */
  respond?: AnthropicResponder;
  /** Defaults to 0 (any free port). */
  port?: number;
  /**
   * For streamed requests, answer as the real API does while a long turn is being generated: the
   * headers and `message_start` at once, then a `ping` every this many ms until the responder
   * resolves (an error reply then comes as an SSE `error` event). Unset: nothing is sent until then.
   */
  pingWhilePendingMs?: number;
  /**
   * The usage every answer reports unless the reply sets its own (field by field), e.g. the same
   * known counts per turn. Unset fields: input and output are estimated from the text, cache 0.
   */
  usage?: Partial<AnthropicUsage>;
}

export interface FakeAnthropic {
  /** Base URL to hand to `ANTHROPIC_BASE_URL` (no trailing slash). */
  url: string;
  /** Every request received, oldest first, including ones to unknown paths. */
  requests: AnthropicRequest[];
  /** Only `POST /v1/messages` requests. */
  messageRequests(): AnthropicRequest[];
  /** Message requests that carried the given `x-claude-code-session-id`. */
  requestsForSession(sessionId: string): AnthropicRequest[];
  setResponder(respond: AnthropicResponder): void;
  clearRequests(): void;
  close(): Promise<void>;
}

export const anthropicReply = {
  text(text: string, usage?: Partial<AnthropicUsage>): AnthropicMessageReply {
    return { text, usage };
  },
  toolUse(name: string, input: unknown, text?: string): AnthropicMessageReply {
    return { text, toolUses: [{ name, input }] };
  },
  error(status: number, message: string, type = errorTypeFor(status)): AnthropicErrorReply {
    return { error: { status, type, message } };
  },
};

function errorTypeFor(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return "api_error";
  }
}

function isErrorReply(value: AnthropicReply): value is AnthropicErrorReply {
  return typeof value === "object" && "error" in value;
}

type OutputBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown };

function outputBlocks(answer: AnthropicMessageReply): OutputBlock[] {
  const blocks: OutputBlock[] = [];
  if (answer.text !== undefined && answer.text !== "") {
    blocks.push({ type: "text", text: answer.text });
  }
  for (const toolUse of answer.toolUses ?? []) {
    blocks.push({
      type: "tool_use",
      id: toolUse.id ?? `toolu_${randomUUID().replaceAll("-", "")}`,
      name: toolUse.name,
      input: toolUse.input,
    });
  }
  if (blocks.length === 0) {
    blocks.push({ type: "text", text: "" });
  }
  return blocks;
}

/** Splits so clients see several deltas per block, as from the real API, and must concatenate them. */
function chunks(text: string): string[] {
  if (text.length < 2) {
    return [text];
  }
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)];
}

function estimateTokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? "").length / 4));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) {
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts).toString("utf8");
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) {
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
  }
  return headers;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "request-id": `req_${randomUUID()}` });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { type: "error", error: { type, message } });
}

/** The usage an answer reports: the reply's own fields, else the fake's defaults, else estimates. */
function usageOf(
  body: MessagesRequestBody,
  blocks: OutputBlock[] | undefined,
  ...sources: (Partial<AnthropicUsage> | undefined)[]
): AnthropicUsage {
  const pick = (field: keyof AnthropicUsage) =>
    sources.find((source) => source?.[field] !== undefined)?.[field];
  return {
    input_tokens: pick("input_tokens") ?? estimateTokens(body.messages),
    output_tokens: pick("output_tokens") ?? (blocks ? estimateTokens(blocks) : 1),
    cache_read_input_tokens: pick("cache_read_input_tokens") ?? 0,
    cache_creation_input_tokens: pick("cache_creation_input_tokens") ?? 0,
  };
}

function sendMessage(
  res: ServerResponse,
  body: MessagesRequestBody,
  answer: AnthropicMessageReply,
  defaultUsage: Partial<AnthropicUsage> | undefined,
): void {
  const blocks = outputBlocks(answer);
  const stopReason = blocks.some((block) => block.type === "tool_use") ? "tool_use" : "end_turn";
  const usage = usageOf(body, blocks, answer.usage, defaultUsage);
  const id = `msg_${randomUUID().replaceAll("-", "")}`;
  const model = body.model ?? "claude-fake";

  if (body.stream !== true) {
    sendJson(res, 200, {
      id,
      type: "message",
      role: "assistant",
      model,
      content: blocks,
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    });
    return;
  }

  startStream(res, { id, model, usage });
  streamBlocks(res, blocks, stopReason, { output_tokens: usage.output_tokens });
}

function sseEvent(res: ServerResponse, type: string, data: Record<string, unknown>): void {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

/**
 * The SSE headers, `message_start` and a first `ping`: what the real API sends before any content.
 * `message_start` carries the input and cache counts; output so far is 1, the rest comes in `message_delta`.
 */
function startStream(
  res: ServerResponse,
  message: { id: string; model: string; usage: AnthropicUsage },
): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "request-id": `req_${randomUUID()}`,
  });
  sseEvent(res, "message_start", {
    message: {
      id: message.id,
      type: "message",
      role: "assistant",
      model: message.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: message.usage.input_tokens,
        output_tokens: 1,
        cache_creation_input_tokens: message.usage.cache_creation_input_tokens,
        cache_read_input_tokens: message.usage.cache_read_input_tokens,
      },
    },
  });
  sseEvent(res, "ping", {});
}

/** `finalUsage` is `message_delta`'s: the output count, and any input count that changed since the start. */
function streamBlocks(
  res: ServerResponse,
  blocks: OutputBlock[],
  stopReason: string,
  finalUsage: Partial<AnthropicUsage>,
): void {
  const event = (type: string, data: Record<string, unknown>) => sseEvent(res, type, data);
  blocks.forEach((block, index) => {
    if (block.type === "text") {
      event("content_block_start", { index, content_block: { type: "text", text: "" } });
      for (const text of chunks(block.text)) {
        event("content_block_delta", { index, delta: { type: "text_delta", text } });
      }
    } else {
      event("content_block_start", {
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      });
      for (const partial of chunks(JSON.stringify(block.input ?? {}))) {
        event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: partial } });
      }
    }
    event("content_block_stop", { index });
  });
  event("message_delta", {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: finalUsage,
  });
  event("message_stop", {});
  res.end();
}

/** A streamed answer whose content comes later: headers and pings now, the reply when the responder has it. */
async function sendPacedMessage(
  res: ServerResponse,
  body: MessagesRequestBody,
  pingEveryMs: number,
  answer: Promise<AnthropicReply>,
  defaultUsage: Partial<AnthropicUsage> | undefined,
): Promise<AnthropicReply> {
  const id = `msg_${randomUUID().replaceAll("-", "")}`;
  // The reply is not known yet: the start reports the defaults, and message_delta corrects what differs.
  const started = usageOf(body, undefined, defaultUsage);
  startStream(res, { id, model: body.model ?? "claude-fake", usage: started });
  const timer = setInterval(() => sseEvent(res, "ping", {}), pingEveryMs);
  let reply: AnthropicReply;
  try {
    reply = await answer;
  } finally {
    clearInterval(timer);
  }
  if (isErrorReply(reply)) {
    const { status, type, message } = reply.error;
    sseEvent(res, "error", { error: { type: type ?? errorTypeFor(status), message } });
    res.end();
    return reply;
  }
  const message = typeof reply === "string" ? { text: reply } : reply;
  const blocks = outputBlocks(message);
  const stopReason = blocks.some((block) => block.type === "tool_use") ? "tool_use" : "end_turn";
  const usage = usageOf(body, blocks, message.usage, defaultUsage);
  const changed = (
    ["input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"] as const
  ).filter((field) => usage[field] !== started[field]);
  streamBlocks(res, blocks, stopReason, {
    ...Object.fromEntries(changed.map((field) => [field, usage[field]])),
    output_tokens: usage.output_tokens,
  });
  return reply;
}

/**
 * A stand-in for the Anthropic Messages API on 127.0.0.1, good enough for the real Claude Code CLI:
 * `POST /v1/messages` answers with SSE (`stream: true`) or JSON, decided by a scripted responder.
 */
export async function startFakeAnthropic(options: StartFakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  let respond: AnthropicResponder = options.respond ?? (() => "OK");
  const requests: AnthropicRequest[] = [];

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        sendError(res, 500, "api_error", `fake anthropic: ${String(error)}`);
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(req);
    let body: MessagesRequestBody = {};
    let parseError: string | undefined;
    if (raw !== "") {
      try {
        body = JSON.parse(raw) as MessagesRequestBody;
      } catch (error) {
        parseError = String(error);
      }
    }
    const headers = flatHeaders(req);
    const recorded: AnthropicRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      search: url.search,
      headers,
      sessionId: headers["x-claude-code-session-id"],
      body,
      conversation: new AnthropicConversation(body),
    };
    requests.push(recorded);

    if (recorded.method !== "POST" || url.pathname !== "/v1/messages") {
      sendError(
        res,
        404,
        "not_found_error",
        `fake anthropic has no route ${recorded.method} ${url.pathname}`,
      );
      return;
    }
    if (parseError !== undefined) {
      sendError(res, 400, "invalid_request_error", `request body is not JSON: ${parseError}`);
      return;
    }
    if (!Array.isArray(body.messages)) {
      sendError(res, 400, "invalid_request_error", "messages: Field required");
      return;
    }

    if (options.pingWhilePendingMs !== undefined && body.stream === true) {
      const pending = Promise.resolve()
        .then(() => respond(recorded.conversation, recorded))
        .catch((error: unknown) =>
          anthropicReply.error(500, `fake anthropic responder threw: ${String(error)}`),
        );
      recorded.reply = await sendPacedMessage(res, body, options.pingWhilePendingMs, pending, options.usage);
      return;
    }

    let answer: AnthropicReply;
    try {
      answer = await respond(recorded.conversation, recorded);
    } catch (error) {
      // A throwing responder is a bug in the test; surfacing it as an API error makes the run fail visibly.
      answer = anthropicReply.error(500, `fake anthropic responder threw: ${String(error)}`);
    }
    recorded.reply = answer;
    if (isErrorReply(answer)) {
      const { status, type, message } = answer.error;
      sendError(res, status, type ?? errorTypeFor(status), message);
      return;
    }
    sendMessage(res, body, typeof answer === "string" ? { text: answer } : answer, options.usage);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    messageRequests: () => requests.filter((request) => request.path === "/v1/messages"),
    requestsForSession: (sessionId) =>
      requests.filter((request) => request.path === "/v1/messages" && request.sessionId === sessionId),
    setResponder(next) {
      respond = next;
    },
    clearRequests() {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
