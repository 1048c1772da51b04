import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Logger } from "@vps-claude/logger";
import { newId } from "@vps-claude/shared";
import type { ApiDeps, ModelGatewayConfig } from "../../deps";
import { authenticateBox } from "../box/authenticate-box";
import { alertAfterSpend } from "../usage/budget-alerts";
import { admitModelRequest } from "./admit-model-request";
import { anthropicErrorResponse, type GatewayRefusal } from "./anthropic-error";
import { emptyUsage, UsageMeter } from "./model-usage";
import { createModelRequestRecorder, type ModelRequestRecord } from "./record-model-request";
import { type ModelKey, resolveModelKey } from "./resolve-model-key";

export const DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com";
export const DEFAULT_MODEL_REQUEST_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MODEL_ACCESS_CACHE_MS = 2_000;
/**
 * How long an upstream connection idles in the pool. Node's agent closes an idle connection before
 * the upstream's announced `Keep-Alive: timeout` only when it has a timeout of its own: without one
 * it ignores the hint and reuses connections the upstream is closing.
 */
const UPSTREAM_IDLE_MS = 30_000;
/** Lookups kept at most; past it the cache starts over (a flood of boxes costs lookups, not memory). */
const ACCESS_CACHE_ENTRIES = 10_000;

export interface ModelGatewayRequest {
  request: Request;
  /** The API path, e.g. `/v1/messages` (what followed `/box/llm`). */
  path: string;
  logger: Logger;
  /**
   * The Node HTTP exchange behind `request`, when served by Node: the body is read and the answer
   * written on it directly (web streams on Node cost more than the rest of the hop).
   */
  node?: { incoming: IncomingMessage; outgoing: ServerResponse };
}

/** `handle` answered on the Node exchange itself. */
export const ANSWERED_ON_NODE = "answered-on-node";

export interface ModelGateway {
  handle(input: ModelGatewayRequest): Promise<Response | typeof ANSWERED_ON_NODE>;
  /** Writes the rows still queued and drops idle upstream connections. */
  close(): Promise<void>;
}

/** Request headers Claude's client sends that the API may use; everything else (auth above all) stays here. */
const FORWARDED_HEADERS = new Set(["content-type", "accept", "user-agent", "x-app", "idempotency-key"]);
const FORWARDED_PREFIXES = ["anthropic-", "x-stainless-", "x-claude-code-"];
/** Response headers that describe our hop, not the API's answer. */
const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "upgrade",
  "trailer",
  "te",
  "proxy-authenticate",
  "proxy-connection",
  "set-cookie",
]);
const ALLOWED_METHODS = new Set(["GET", "POST", "DELETE"]);
const API_PATH = /^\/v1(?:\/[A-Za-z0-9_~:-][A-Za-z0-9._~:-]*)*$/;
const RUN_ID = /^[\w.:-]{1,100}$/;

function boxTokenOf(headers: Headers): string | null {
  const apiKey = headers.get("x-api-key");
  if (apiKey) {
    return apiKey.trim();
  }
  const authorization = headers.get("authorization");
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (bearer) {
    return bearer;
  }
  return headers.get("x-box-secret")?.trim() || null;
}

function upstreamHeaders(incoming: Headers, apiKey: string, bodyLength: number): Record<string, string> {
  const headers: Record<string, string> = {};
  incoming.forEach((value, name) => {
    if (FORWARDED_HEADERS.has(name) || FORWARDED_PREFIXES.some((prefix) => name.startsWith(prefix))) {
      headers[name] = value;
    }
  });
  headers["x-api-key"] = apiKey;
  if (bodyLength > 0) {
    headers["content-length"] = String(bodyLength);
  }
  return headers;
}

function responseHeaders(upstream: IncomingMessage): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !HOP_HEADERS.has(name)) {
      headers[name] = value;
    }
  }
  return headers;
}

function toWebHeaders(headers: OutgoingHttpHeaders): Headers {
  const web = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined) {
        web.append(name, String(item));
      }
    }
  }
  return web;
}

class BodyTooLargeError extends Error {}

/** Reads the request body, refusing as soon as it passes `limit` (never holding more than that). */
async function readBoundedBody(
  request: Request,
  incoming: IncomingMessage | undefined,
  limit: number,
): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new BodyTooLargeError();
  }
  if (incoming) {
    return readBoundedNodeBody(incoming, limit);
  }
  if (!request.body) {
    return Buffer.alloc(0);
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError();
    }
    parts.push(value);
  }
  return Buffer.concat(parts, size);
}

/** The rest of an oversized body is left to the server to drain, so the 413 still reaches the client. */
function readBoundedNodeBody(incoming: IncomingMessage, limit: number): Promise<Buffer> {
  if (incoming.readableEnded) {
    return Promise.resolve(Buffer.alloc(0));
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(new BodyTooLargeError());
        return;
      }
      parts.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(parts, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    incoming.on("data", onData);
    incoming.once("end", onEnd);
    incoming.once("error", onError);
  });
}

/** What metering needs from the request body: the model and whether a stream was asked for. */
function describeBody(body: Buffer, contentType: string | null): { model: string | null; stream: boolean } {
  if (body.length === 0 || !contentType?.includes("json")) {
    return { model: null, stream: false };
  }
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { model?: unknown; stream?: unknown };
    return {
      model: typeof parsed.model === "string" ? parsed.model.slice(0, 200) : null,
      stream: parsed.stream === true,
    };
  } catch {
    // The API answers a malformed body with its own 400; the gateway only meters.
    return { model: null, stream: false };
  }
}

function meterKind(upstream: IncomingMessage): "sse" | "json" | "other" {
  const type = String(upstream.headers["content-type"] ?? "");
  if (type.includes("text/event-stream")) {
    return "sse";
  }
  return type.includes("json") ? "json" : "other";
}

/**
 * The upstream closed a kept-alive connection as the request went out on it (it reached its idle
 * timeout at that moment): nothing was answered, and the request can go again on a new connection.
 * Node documents this race and this remedy (`request.reusedSocket`).
 */
function isStaleConnectionError(outgoing: ClientRequest, error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return outgoing.reusedSocket && (code === "ECONNRESET" || code === "EPIPE");
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
}

/**
 * The model gateway behind `/box/llm/*`: a box calls it with its own token as the API key; the
 * gateway swaps in the real key (the owner's credential, else the platform's), forwards to the
 * Anthropic API and streams the answer back chunk by chunk as it arrives, reading token usage on
 * the way without holding anything back. Each forwarded request becomes one `model_request` row
 * (and, once the API answered it, a priced ledger entry), written when the response ends, is cut,
 * or the box hangs up.
 *
 * Upstream calls use node:http directly: redirects are never followed, and nothing times out on
 * our side (a model turn can run for many minutes; the box's client decides when to give up).
 */
export function createModelGateway({
  deps,
  config,
  ledger = true,
}: {
  deps: ApiDeps;
  config: ModelGatewayConfig;
  /** Off only for the bench's baseline: requests are recorded without their ledger entries. */
  ledger?: boolean;
}): ModelGateway {
  const upstreamBase = new URL(config.upstreamUrl);
  const basePath = upstreamBase.pathname.replace(/\/+$/, "");
  const secure = upstreamBase.protocol === "https:";
  const pool = { keepAlive: true, timeout: UPSTREAM_IDLE_MS };
  const agent = secure ? new HttpsAgent(pool) : new HttpAgent(pool);
  const send = secure ? httpsRequest : httpRequest;
  const recorder = createModelRequestRecorder({
    deps,
    logger: deps.logger.child({ component: "model-gateway" }),
    ledger,
    onWritten: (records) => alertAfterSpend(deps, records),
  });
  type Access = { box: NonNullable<Awaited<ReturnType<typeof authenticateBox>>>; key: ModelKey | null };
  const accessCache = new Map<string, { access: Access; expiresAt: number }>();

  /** The box a token belongs to and the key that pays for it; only successful lookups are reused. */
  async function authorize(token: string | null): Promise<Access | null> {
    // Keyed by the token itself: it is in this process's memory for the request anyway.
    const cacheKey = token && config.accessCacheMs > 0 ? token : null;
    const cached = cacheKey ? accessCache.get(cacheKey) : undefined;
    if (cached && cached.expiresAt > Date.now()) {
      return cached.access;
    }
    const box = await authenticateBox({
      db: deps.db,
      keyring: deps.keyring,
      pepper: deps.config.tokenPepper,
      token,
    });
    if (!box) {
      return null;
    }
    const key = await resolveModelKey({ deps, userId: box.userId, platformApiKey: config.platformApiKey });
    const access = { box, key };
    if (cacheKey) {
      if (accessCache.size >= ACCESS_CACHE_ENTRIES) {
        accessCache.clear();
      }
      accessCache.set(cacheKey, { access, expiresAt: Date.now() + config.accessCacheMs });
    }
    return access;
  }

  async function handle({
    request,
    path,
    logger,
    node,
  }: ModelGatewayRequest): Promise<Response | typeof ANSWERED_ON_NODE> {
    const startedAt = performance.now();
    const access = await authorize(boxTokenOf(request.headers));
    if (!access) {
      return anthropicErrorResponse({
        status: 401,
        type: "authentication_error",
        message:
          "the model gateway needs this box's own token as the API key (x-api-key, Authorization: Bearer or X-Box-Secret); it was missing or wrong",
      });
    }
    const { box, key } = access;
    if (!API_PATH.test(path)) {
      return anthropicErrorResponse({
        status: 404,
        type: "not_found_error",
        message: `the model gateway forwards only Anthropic API paths under /v1 (got '${path.slice(0, 200)}')`,
      });
    }
    if (!ALLOWED_METHODS.has(request.method)) {
      return anthropicErrorResponse({
        status: 405,
        type: "invalid_request_error",
        message: `the model gateway forwards GET, POST and DELETE, not ${request.method}`,
      });
    }
    let body: Buffer;
    try {
      body = await readBoundedBody(request, node?.incoming, config.maxRequestBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return anthropicErrorResponse({
          status: 413,
          type: "request_too_large",
          message: `request body is larger than the gateway's limit of ${config.maxRequestBytes / 1024 / 1024} MiB`,
        });
      }
      throw error;
    }
    if (!key) {
      return anthropicErrorResponse({
        status: 401,
        type: "authentication_error",
        message:
          "no Anthropic API key for this box: add your ANTHROPIC_API_KEY in Settings → Credentials (or ask the operator to set the platform's ANTHROPIC_API_KEY)",
      });
    }
    const { model, stream } = describeBody(body, request.headers.get("content-type"));
    const refusal = await admitModelRequest({ deps, box, keySource: key.source, model: model ?? undefined });
    if (refusal) {
      return anthropicErrorResponse(refusal);
    }

    const runIdHeader = request.headers.get("x-vps-run-id")?.trim();
    const record: ModelRequestRecord = {
      id: newId("modelRequest"),
      userId: box.userId,
      boxId: box.id,
      boxName: box.name,
      runId: runIdHeader && RUN_ID.test(runIdHeader) ? runIdHeader : null,
      method: request.method,
      path,
      model,
      streamed: stream,
      keySource: key.source,
      status: 0,
      usage: emptyUsage(),
      durationMs: 0,
      errorMessage: null,
      endedAt: new Date(),
    };
    let recorded = false;
    const finish = (meter: UsageMeter | undefined, error: string | undefined) => {
      if (recorded) {
        return;
      }
      recorded = true;
      if (meter) {
        record.usage = meter.finish();
      }
      record.durationMs = performance.now() - startedAt;
      record.endedAt = new Date();
      record.errorMessage = error ?? meter?.errorMessage ?? null;
      recorder.record(record);
    };

    const search = new URL(request.url).search;
    const target = new URL(`${basePath}${path}${search}`, upstreamBase);
    return new Promise<Response | typeof ANSWERED_ON_NODE>((resolve) => {
      const refuse = (refusal: GatewayRefusal, reason: string) => {
        finish(undefined, reason);
        resolve(anthropicErrorResponse(refusal));
      };
      const forward = (connection: "pooled" | "fresh") => {
        const outgoing = send(target, {
          method: request.method,
          // `false`: a connection of its own, closed after the answer.
          agent: connection === "pooled" ? agent : false,
          headers: upstreamHeaders(request.headers, key.apiKey, body.length),
        });
        let answered = false;
        const onClientGone = () => {
          outgoing.destroy();
          refuse(
            { status: 499, type: "api_error", message: "the client closed the request" },
            "client disconnected before the upstream answered",
          );
        };
        // Watching the Node response avoids building the full web Request just for its signal.
        const watchClient = (on: boolean) => {
          if (node) {
            if (on) {
              node.outgoing.once("close", onClientGone);
            } else {
              node.outgoing.off("close", onClientGone);
            }
          } else if (on) {
            request.signal.addEventListener("abort", onClientGone, { once: true });
          } else {
            request.signal.removeEventListener("abort", onClientGone);
          }
        };
        watchClient(true);
        outgoing.once("error", (error) => {
          watchClient(false);
          if (!answered && connection === "pooled" && isStaleConnectionError(outgoing, error)) {
            logger.debug(
              { boxId: box.id, err: describeError(error), path },
              "kept-alive upstream connection was closed; sending again",
            );
            forward("fresh");
            return;
          }
          logger.warn({ boxId: box.id, err: describeError(error), path }, "model API unreachable");
          refuse(
            {
              status: 502,
              type: "api_error",
              message: `the model gateway could not reach the Anthropic API (${describeError(error)}); try again shortly`,
            },
            `upstream unreachable: ${describeError(error)}`,
          );
        });
        outgoing.once("response", (upstream) => {
          answered = true;
          watchClient(false);
          record.status = upstream.statusCode ?? 0;
          if (record.status >= 300 && record.status < 400) {
            upstream.destroy();
            refuse(
              {
                status: 502,
                type: "api_error",
                message: `the Anthropic API answered a redirect (${record.status}); the model gateway does not follow redirects`,
              },
              `upstream redirect ${record.status}`,
            );
            return;
          }
          const meter = new UsageMeter(meterKind(upstream), record.status);
          const onEnd = (error: string | undefined) => finish(meter, error);
          if (node && (node.outgoing.headersSent || node.outgoing.destroyed)) {
            // The box went away and was answered 499 already: an upstream answer arriving after
            // that has nowhere to go (writing it would throw outside any handler).
            upstream.destroy();
            finish(meter, "client disconnected before the upstream answered");
            return;
          }
          if (node) {
            pipeUpstream(upstream, node.outgoing, meter, onEnd);
            resolve(ANSWERED_ON_NODE);
            return;
          }
          resolve(
            new Response(streamUpstream(upstream, meter, onEnd), {
              status: record.status,
              headers: toWebHeaders(responseHeaders(upstream)),
            }),
          );
        });
        outgoing.end(body.length > 0 ? body : undefined);
      };
      forward("pooled");
    });
  }

  return {
    handle,
    async close() {
      await recorder.flush();
      agent.destroy();
    },
  };
}

/**
 * The upstream answer written to the box's Node response: each chunk the moment it arrives, the
 * upstream paused while the box reads slower than the API writes.
 */
function pipeUpstream(
  upstream: IncomingMessage,
  outgoing: ServerResponse,
  meter: UsageMeter,
  onEnd: (error: string | undefined) => void,
): void {
  let open = true;
  let bytes = 0;
  const close = (error: string | undefined) => {
    if (open) {
      open = false;
      onEnd(error);
    }
  };
  // The headers leave with the first chunk (one write, not two); the API sends both together anyway.
  outgoing.writeHead(upstream.statusCode ?? 502, responseHeaders(upstream));
  upstream.on("data", (chunk: Buffer) => {
    if (!open) {
      return;
    }
    bytes += chunk.length;
    if (!outgoing.write(chunk)) {
      upstream.pause();
      outgoing.once("drain", () => upstream.resume());
    }
    meter.push(chunk);
  });
  upstream.once("end", () => {
    if (open) {
      outgoing.end();
      close(undefined);
    }
  });
  upstream.once("error", (error) => {
    outgoing.destroy();
    close(`upstream response broke after ${bytes} bytes: ${describeError(error)}`);
  });
  upstream.once("close", () => {
    if (!upstream.complete) {
      outgoing.destroy();
      close(`upstream closed the response after ${bytes} bytes`);
    }
  });
  outgoing.once("close", () => {
    if (open) {
      upstream.destroy();
      close(`client disconnected after ${bytes} bytes`);
    }
  });
}

/**
 * The upstream body as a web stream that hands on each chunk the moment it arrives (no batching),
 * with backpressure: the upstream socket pauses while the box reads slower than the API writes.
 */
function streamUpstream(
  upstream: IncomingMessage,
  meter: UsageMeter,
  onEnd: (error: string | undefined) => void,
): ReadableStream<Uint8Array> {
  let open = true;
  let bytes = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      upstream.on("data", (chunk: Buffer) => {
        if (!open) {
          return;
        }
        controller.enqueue(chunk);
        bytes += chunk.length;
        meter.push(chunk);
        if ((controller.desiredSize ?? 0) <= 0) {
          upstream.pause();
        }
      });
      upstream.once("end", () => {
        if (open) {
          open = false;
          controller.close();
          onEnd(undefined);
        }
      });
      const cut = (reason: string) => {
        if (open) {
          open = false;
          controller.error(new Error(reason));
          onEnd(reason);
        }
      };
      upstream.once("error", (error) =>
        cut(`upstream response broke after ${bytes} bytes: ${describeError(error)}`),
      );
      upstream.once("close", () => {
        if (!upstream.complete) {
          cut(`upstream closed the response after ${bytes} bytes`);
        }
      });
    },
    pull() {
      upstream.resume();
    },
    cancel() {
      if (open) {
        open = false;
        upstream.destroy();
        onEnd(`client disconnected after ${bytes} bytes`);
      }
    },
  });
}
