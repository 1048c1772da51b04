import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getBoxToken } from "@vps-claude/api";
import { modelRequest } from "@vps-claude/db";
import { createRedis } from "@vps-claude/redis";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { signedInClient, startTestServer, type TestClient, type TestServer } from "./harness";

/**
 * The model gateway (`/box/llm/*`) on the real server, in front of a fake Anthropic API that speaks
 * the API's wire format and lets each test script its answer byte by byte (held chunks, errors,
 * resets, redirects).
 */
interface UpstreamCall {
  method: string;
  path: string;
  search: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** Resolves when the gateway closed the connection of this call. */
  closed: Promise<void>;
}

type UpstreamScript = (call: UpstreamCall, res: ServerResponse) => void | Promise<void>;

async function startUpstream() {
  const calls: UpstreamCall[] = [];
  let script: UpstreamScript = (_call, res) => json(res, 200, {});
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const part of req) {
      parts.push(part as Buffer);
    }
    const url = new URL(req.url ?? "/", "http://upstream");
    const call: UpstreamCall = {
      method: req.method ?? "GET",
      path: url.pathname,
      search: url.search,
      headers: req.headers,
      body: Buffer.concat(parts).toString("utf8"),
      closed: new Promise((resolve) => res.once("close", () => resolve())),
    };
    calls.push(call);
    await script(call, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    script(next: UpstreamScript) {
      script = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", "request-id": "req_fake", ...headers });
  res.end(JSON.stringify(body));
}

const sse = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

const MESSAGE_START = sse("message_start", {
  message: {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: [],
    stop_reason: null,
    usage: {
      input_tokens: 321,
      output_tokens: 1,
      cache_creation_input_tokens: 40,
      cache_read_input_tokens: 500,
    },
  },
});
const TEXT_EVENTS =
  sse("content_block_start", { index: 0, content_block: { type: "text", text: "" } }) +
  sse("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hé, ça va ? 👋" } }) +
  sse("content_block_stop", { index: 0 });
const MESSAGE_END =
  sse("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 57 } }) +
  sse("message_stop", {});

const PLATFORM_KEY = "sk-ant-platform-0123456789";
const OWNER_KEY = "sk-ant-owner-abcdefghijkl";
const PROMPT = { model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user", content: "hi" }] };

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let server: TestServer;
let owner: TestClient;
let boxId: string;
let token: string;

async function createBox(client: TestClient, name: string) {
  const created = await client.post("/rpc/box", { name });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = String(created.body.id);
  const secret = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId: id });
  if (!secret) {
    throw new Error("box has no token");
  }
  return { id, token: secret };
}

function gateway(
  path: string,
  init: { headers?: Record<string, string>; body?: unknown; method?: string } = {},
) {
  return fetch(`${server.url}/box/llm${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      "x-api-key": token,
      "anthropic-version": "2023-06-01",
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...init.headers,
    },
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === "string"
          ? init.body
          : JSON.stringify(init.body),
  });
}

async function rowsFor(id: string, count: number) {
  let rows: (typeof modelRequest.$inferSelect)[] = [];
  await expect
    .poll(
      async () => {
        rows = await server.deps.db.select().from(modelRequest).where(eq(modelRequest.boxId, id));
        return rows.length;
      },
      { timeout: 10_000 },
    )
    .toBe(count);
  return rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

beforeAll(async () => {
  upstream = await startUpstream();
  server = await startTestServer({
    env: { ANTHROPIC_BASE_URL: upstream.url, ANTHROPIC_API_KEY: PLATFORM_KEY },
  });
  ({ client: owner } = await signedInClient(server));
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});
beforeEach(async () => {
  upstream.calls.length = 0;
  upstream.script((_call, res) =>
    json(res, 200, { type: "message", usage: { input_tokens: 1, output_tokens: 1 } }),
  );
  ({ id: boxId, token } = await createBox(owner, `gw-${Math.random().toString(36).slice(2, 8)}`));
});

describe("the model gateway forwards to the Anthropic API with the real key", () => {
  it("passes a JSON message through, with the platform's key, and meters it", async () => {
    const answer = {
      id: "msg_json",
      type: "message",
      role: "assistant",
      content: [{ type: "text", text: "hello" }],
      usage: {
        input_tokens: 12,
        output_tokens: 7,
        cache_read_input_tokens: 3,
        cache_creation_input_tokens: 2,
      },
    };
    upstream.script((_call, res) =>
      json(res, 200, answer, { "anthropic-ratelimit-requests-remaining": "49" }),
    );
    const res = await gateway("/v1/messages?beta=true", {
      body: PROMPT,
      headers: {
        "anthropic-beta": "prompt-caching-2024-07-31",
        "x-vps-run-id": "run-123",
        "x-claude-code-session-id": "sess-1",
        cookie: "a=b",
      },
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(text).toBe(JSON.stringify(answer));
    expect(res.headers.get("anthropic-ratelimit-requests-remaining")).toBe("49");
    expect(res.headers.get("request-id")).toBe("req_fake");

    const [call] = upstream.calls;
    expect(call).toMatchObject({ method: "POST", path: "/v1/messages", search: "?beta=true" });
    expect(JSON.parse(call?.body ?? "")).toEqual(PROMPT);
    expect(call?.headers["x-api-key"]).toBe(PLATFORM_KEY);
    expect(call?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(call?.headers["anthropic-beta"]).toBe("prompt-caching-2024-07-31");
    expect(call?.headers["x-claude-code-session-id"]).toBe("sess-1");
    // The box's token and our own headers stay on our side.
    expect(JSON.stringify(call?.headers)).not.toContain(token);
    expect(call?.headers["x-vps-run-id"]).toBeUndefined();
    expect(call?.headers.cookie).toBeUndefined();
    expect(call?.headers.authorization).toBeUndefined();

    const [row] = await rowsFor(boxId, 1);
    expect(row).toMatchObject({
      boxId,
      boxName: expect.stringMatching(/^gw-/),
      runId: "run-123",
      method: "POST",
      path: "/v1/messages",
      model: "claude-sonnet-4-5",
      streamed: false,
      keySource: "platform",
      status: 200,
      inputTokens: 12,
      outputTokens: 7,
      cacheReadTokens: 3,
      cacheWriteTokens: 2,
      errorMessage: null,
    });
    expect(row?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("uses the owner's own ANTHROPIC_API_KEY credential when there is one", async () => {
    const { client: someone } = await signedInClient(server);
    const box = await createBox(someone, "own-key");
    const saved = await someone.post("/rpc/credentials", { key: "ANTHROPIC_API_KEY", value: OWNER_KEY });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    upstream.script((_call, res) =>
      json(res, 200, { type: "message", usage: { input_tokens: 1, output_tokens: 1 } }),
    );
    const res = await fetch(`${server.url}/box/llm/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${box.token}`, "content-type": "application/json" },
      body: JSON.stringify(PROMPT),
    });
    expect(res.status, await res.text()).toBe(200);
    expect(upstream.calls.at(-1)?.headers["x-api-key"]).toBe(OWNER_KEY);
    const [row] = await rowsFor(box.id, 1);
    expect(row).toMatchObject({ keySource: "user", runId: null });
  });

  it("streams SSE byte for byte, forwarding the first chunk before the upstream sends the next", async () => {
    let releaseRest: () => void = () => {};
    const rest = new Promise<void>((resolve) => {
      releaseRest = resolve;
    });
    upstream.script(async (_call, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(MESSAGE_START);
      await rest;
      res.write(TEXT_EVENTS);
      res.end(MESSAGE_END);
    });
    const res = await gateway("/v1/messages?beta=true", {
      body: { ...PROMPT, stream: true },
      headers: { "x-vps-run-id": "run-sse" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body?.getReader();
    if (!reader) {
      throw new Error("no body");
    }
    const received: Uint8Array[] = [];
    const decoder = new TextDecoder();
    let seen = "";
    // The upstream holds everything after message_start until we have it: a gateway that buffered
    // would never get here, so the wait is bounded with a message that says so.
    const firstChunk = (async () => {
      while (!seen.includes("\n\n")) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        received.push(value);
        seen += decoder.decode(value, { stream: true });
      }
    })();
    const held = await Promise.race([
      firstChunk.then(() => "forwarded"),
      new Promise((resolve) => setTimeout(() => resolve("held back"), 15_000)),
    ]);
    expect(held, "message_start must reach the box before the upstream sends more").toBe("forwarded");
    expect(seen).toBe(MESSAGE_START);
    releaseRest();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      received.push(value);
    }
    expect(Buffer.concat(received).equals(Buffer.from(MESSAGE_START + TEXT_EVENTS + MESSAGE_END))).toBe(true);

    const [row] = await rowsFor(boxId, 1);
    expect(row).toMatchObject({
      runId: "run-sse",
      streamed: true,
      status: 200,
      inputTokens: 321,
      outputTokens: 57,
      cacheReadTokens: 500,
      cacheWriteTokens: 40,
      errorMessage: null,
    });
  });

  it("records what it saw when the box hangs up mid-stream, and closes the upstream call", async () => {
    upstream.script((_call, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(MESSAGE_START);
      // Never ends: the box gives up first.
    });
    const res = await gateway("/v1/messages", { body: { ...PROMPT, stream: true } });
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toContain("message_start");
    await reader?.cancel();
    await upstream.calls[0]?.closed;
    const [row] = await rowsFor(boxId, 1);
    expect(row).toMatchObject({ status: 200, inputTokens: 321, outputTokens: 1, streamed: true });
    expect(row?.errorMessage).toMatch(/client disconnected/);
  });

  it("streams the same way when the app is called in-process (web streams, no Node response)", async () => {
    upstream.script((_call, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(MESSAGE_START);
      res.end(TEXT_EVENTS + MESSAGE_END);
    });
    const redis = createRedis(server.config.REDIS_URL, "producer");
    try {
      const app = createApp({ deps: server.deps, redis, edge: server.config });
      const res = await app.fetch(
        new Request("http://in-process/box/llm/v1/messages", {
          method: "POST",
          headers: { "x-api-key": token, "content-type": "application/json", "x-vps-run-id": "run-web" },
          body: JSON.stringify({ ...PROMPT, stream: true }),
        }),
      );
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(MESSAGE_START + TEXT_EVENTS + MESSAGE_END);
    } finally {
      redis.disconnect();
    }
    const [row] = await rowsFor(boxId, 1);
    expect(row).toMatchObject({ runId: "run-web", inputTokens: 321, outputTokens: 57, cacheReadTokens: 500 });
  });

  it("passes count_tokens and other /v1 routes through", async () => {
    upstream.script((call, res) =>
      call.path === "/v1/messages/count_tokens"
        ? json(res, 200, { input_tokens: 2095 })
        : json(res, 200, { data: [{ id: "claude-sonnet-4-5", type: "model" }], has_more: false }),
    );
    const counted = await gateway("/v1/messages/count_tokens", { body: PROMPT });
    expect(await counted.json()).toEqual({ input_tokens: 2095 });
    const models = await gateway("/v1/models?limit=5");
    expect(models.status).toBe(200);
    expect(await models.json()).toMatchObject({ data: [{ id: "claude-sonnet-4-5" }] });
    expect(upstream.calls.map((call) => `${call.method} ${call.path}${call.search}`)).toEqual([
      "POST /v1/messages/count_tokens",
      "GET /v1/models?limit=5",
    ]);
    const rows = await rowsFor(boxId, 2);
    // Counting tokens costs nothing: no usage is recorded for it.
    expect(rows.map((row) => [row.path, row.inputTokens])).toEqual([
      ["/v1/messages/count_tokens", 0],
      ["/v1/models", 0],
    ]);
  });
});

describe("upstream errors reach Claude as the API's own answers", () => {
  it.each([
    [
      429,
      "rate_limit_error",
      "Number of request tokens has exceeded your per-minute rate limit",
      { "retry-after": "17" },
    ],
    [500, "api_error", "Internal server error", {}],
    [529, "overloaded_error", "Overloaded", { "x-should-retry": "true" }],
  ])("%i %s", async (status, type, message, headers: Record<string, string>) => {
    const body = { type: "error", error: { type, message }, request_id: "req_err" };
    upstream.script((_call, res) => json(res, status, body, headers));
    const res = await gateway("/v1/messages", { body: PROMPT });
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(JSON.stringify(body));
    for (const [name, value] of Object.entries(headers)) {
      expect(res.headers.get(name)).toBe(value);
    }
    const [row] = await rowsFor(boxId, 1);
    expect(row).toMatchObject({ status, errorMessage: `${type}: ${message}` });
  });

  it("answers 502 api_error when the upstream cannot be reached, and records it", async () => {
    upstream.script((_call, res) => {
      res.socket?.destroy();
    });
    const res = await gateway("/v1/messages", { body: PROMPT });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect(body.error.message).toMatch(/could not reach the Anthropic API/);
    const [row] = await rowsFor(boxId, 1);
    expect(row).toMatchObject({ status: 0 });
    expect(row?.errorMessage).toMatch(/upstream unreachable/);
  });

  it("does not follow a redirect", async () => {
    upstream.script((_call, res) => {
      res.writeHead(307, { location: `/v1/secret?path=/etc/passwd` });
      res.end();
    });
    const res = await gateway("/v1/messages", { body: PROMPT });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /answered a redirect \(307\); the model gateway does not follow redirects/,
    );
    expect(upstream.calls).toHaveLength(1);
  });
});

describe("kept-alive connections on both sides of the gateway", () => {
  const okAnswer = { type: "message", usage: { input_tokens: 1, output_tokens: 1 } };

  /**
   * The upstream's side of the keep-alive race: a connection that served a request and idled is
   * closed by the upstream just as the gateway sends the next request on it (here: as it arrives).
   */
  function closeReusedConnections({ times }: { times: number }) {
    const served = new WeakSet<object>();
    let closed = 0;
    upstream.script((_call, res) => {
      const socket = res.socket;
      if (socket && served.has(socket) && closed < times) {
        closed++;
        socket.destroy();
        return;
      }
      if (socket) {
        served.add(socket);
      }
      json(res, 200, okAnswer);
    });
    return { closed: () => closed };
  }

  it("sends a request again on a new connection when the upstream closed the kept-alive one under it", async () => {
    const upstreamSide = closeReusedConnections({ times: 1 });
    const warm = await gateway("/v1/messages", { body: PROMPT });
    expect(warm.status, "the first request leaves its connection in the pool").toBe(200);
    await warm.text();
    upstream.calls.length = 0;

    const res = await gateway("/v1/messages", { body: PROMPT });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual(okAnswer);
    expect(upstreamSide.closed(), "the pooled connection was closed under the request").toBe(1);
    expect(upstream.calls.map((call) => call.body)).toEqual([JSON.stringify(PROMPT), JSON.stringify(PROMPT)]);
    const rows = await rowsFor(boxId, 2);
    expect(rows.map((row) => [row.status, row.errorMessage])).toEqual([
      [200, null],
      [200, null],
    ]);
  });

  it("sends it again only once: a new connection closed too is a 502", async () => {
    closeReusedConnections({ times: 1 });
    await (await gateway("/v1/messages", { body: PROMPT })).text();
    upstream.calls.length = 0;
    upstream.script((_call, res) => {
      res.socket?.destroy();
    });
    const res = await gateway("/v1/messages", { body: PROMPT });
    expect(res.status).toBe(502);
    expect(upstream.calls, "the pooled connection, then one new one").toHaveLength(2);
  });

  it("keeps a box's idle connection open longer than the Claude CLI's pool keeps one (five minutes)", async () => {
    const res = await gateway("/v1/messages", { body: PROMPT });
    await res.text();
    const seconds = Number(/timeout=(\d+)/.exec(res.headers.get("keep-alive") ?? "")?.[1]);
    expect(seconds, `Keep-Alive: ${res.headers.get("keep-alive")}`).toBeGreaterThan(300);
  });
});

describe("the gateway's own refusals use the API's error shape", () => {
  const refusal = async (res: Response) => ({
    status: res.status,
    body: (await res.json()) as { type: string; error: { type: string; message: string } },
  });

  it("refuses a missing or wrong token with 401 authentication_error, sending nothing upstream", async () => {
    for (const headers of [
      { "x-api-key": "" },
      { "x-api-key": "0".repeat(64) },
      { "x-api-key": "sk-ant-not-a-box-token" },
    ]) {
      const { status, body } = await refusal(await gateway("/v1/messages", { body: PROMPT, headers }));
      expect(status).toBe(401);
      expect(body).toMatchObject({ type: "error", error: { type: "authentication_error" } });
      expect(body.error.message).toMatch(/this box's own token/);
    }
    const viaSecretHeader = await fetch(`${server.url}/box/llm/v1/messages`, {
      method: "POST",
      headers: { "x-box-secret": token, "content-type": "application/json" },
      body: JSON.stringify(PROMPT),
    });
    expect(viaSecretHeader.status).toBe(200);
    await viaSecretHeader.text();
    expect(upstream.calls).toHaveLength(1);
  });

  it("refuses paths outside /v1 with 404 not_found_error", async () => {
    for (const path of ["/v2/messages", "/", "/v1/..%2f..%2frpc", "/v1/%2e%2e/x", "/messages"]) {
      const { status, body } = await refusal(await gateway(path, { body: PROMPT }));
      expect(status, path).toBe(404);
      expect(body.error.type).toBe("not_found_error");
      expect(body.error.message).toMatch(/only Anthropic API paths under \/v1/);
    }
    expect(upstream.calls).toHaveLength(0);
  });

  it("refuses a body over the limit with 413 request_too_large", async () => {
    const config = server.deps.config.modelGateway;
    const limit = config.maxRequestBytes;
    config.maxRequestBytes = 64 * 1024;
    try {
      const { status, body } = await refusal(
        await gateway("/v1/messages", { body: { ...PROMPT, padding: "x".repeat(100 * 1024) } }),
      );
      expect(status).toBe(413);
      expect(body.error).toMatchObject({ type: "request_too_large" });
      expect(body.error.message).toMatch(/larger than the gateway's limit/);
    } finally {
      config.maxRequestBytes = limit;
    }
    expect(upstream.calls).toHaveLength(0);
  });

  it("says where to add a key when neither the owner nor the platform has one", async () => {
    const config = server.deps.config.modelGateway;
    config.platformApiKey = undefined;
    try {
      const { status, body } = await refusal(await gateway("/v1/messages", { body: PROMPT }));
      expect(status).toBe(401);
      expect(body.error.type).toBe("authentication_error");
      expect(body.error.message).toMatch(/add your ANTHROPIC_API_KEY in Settings/);
    } finally {
      config.platformApiKey = PLATFORM_KEY;
    }
    expect(upstream.calls).toHaveLength(0);
  });
});
