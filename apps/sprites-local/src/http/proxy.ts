import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ApiError } from "../domain/errors.js";
import type { ManagedSprite } from "../domain/managed-sprite.js";
import { bearerMatches } from "./auth.js";
import type { AppContext } from "./context.js";
import { apiErrorBody, apiErrorStatus, rejectUpgrade } from "./errors.js";

/** Prefix of the path-based sprite URL: `http://127.0.0.1:<port>/proxy/<name>/…`. */
export const PROXY_PREFIX = "/proxy/";
/** How long a request that woke a sprite waits for its HTTP port to accept connections. */
const WAKE_PORT_WAIT_MS = 15_000;

export interface ProxyTarget {
  name: string;
  /** Path and query to send upstream, always starting with "/". */
  path: string;
}

/**
 * Which sprite a request is for, if any. Two forms reach the same place:
 * `http://127.0.0.1:<port>/proxy/<name>/path` (prefix stripped) and `http://<name>.localhost:<port>/path`.
 */
export function matchProxy(req: IncomingMessage): ProxyTarget | null {
  const url = req.url ?? "/";
  if (url.startsWith(PROXY_PREFIX)) {
    const rest = url.slice(PROXY_PREFIX.length);
    const end = rest.search(/[/?]/);
    const name = decodeURIComponent(end < 0 ? rest : rest.slice(0, end));
    const remainder = end < 0 ? "" : rest.slice(end);
    if (!name) {
      return null;
    }
    return { name, path: remainder.startsWith("/") ? remainder : `/${remainder}` };
  }
  const host = (req.headers.host ?? "").toLowerCase().replace(/:\d+$/, "");
  const suffix = ".localhost";
  if (host.endsWith(suffix) && host.length > suffix.length) {
    const name = host.slice(0, -suffix.length);
    if (!name.includes(".")) {
      return { name, path: url.startsWith("/") ? url : `/${url}` };
    }
  }
  return null;
}

function sendJson(res: ServerResponse, error: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(apiErrorBody(error));
  res.writeHead(apiErrorStatus(error), {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

async function waitForPort(sprite: ManagedSprite, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await sprite.portListening(port)) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Finds the sprite, checks URL auth and wakes it; returns the port to forward to. */
async function prepare(
  ctx: AppContext,
  target: ProxyTarget,
  authorization: string | undefined,
): Promise<{ sprite: ManagedSprite; port: number; release: () => void }> {
  const sprite = ctx.registry.find(target.name);
  if (!sprite) {
    throw new ApiError("not_found", `sprite '${target.name}' not found`);
  }
  if (sprite.record.urlAuth === "sprite" && !bearerMatches(authorization, ctx.token)) {
    throw new ApiError(
      "unauthorized",
      `sprite '${target.name}' has url_settings.auth "sprite": send Authorization: Bearer <token>`,
    );
  }
  const release = sprite.hold();
  let previous: Awaited<ReturnType<ManagedSprite["wake"]>>;
  try {
    previous = await sprite.wake();
  } catch (error) {
    release();
    throw error;
  }
  const port = sprite.httpPort();
  // Give services that were just (re)started a moment to listen; with none wanted, nothing will come up.
  const services = [...sprite.services.values()];
  const portService = services.find((s) => s.definition.httpPort === port);
  const mayListen = portService ? portService.definition.wanted : services.some((s) => s.definition.wanted);
  if (mayListen && (previous !== "running" || portService?.status === "starting")) {
    await waitForPort(sprite, port, WAKE_PORT_WAIT_MS);
  }
  return { sprite, port, release };
}

/** The URL token authenticates the caller to the proxy; it must not reach the sprite's program. */
function forwardedHeaders(req: IncomingMessage, sprite: ManagedSprite): string[] {
  const headers: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i] ?? "";
    if (sprite.record.urlAuth === "sprite" && key.toLowerCase() === "authorization") {
      continue;
    }
    headers.push(key, raw[i + 1] ?? "");
  }
  headers.push("x-forwarded-proto", "http", "x-forwarded-host", req.headers.host ?? "");
  headers.push("x-forwarded-for", req.socket.remoteAddress ?? "127.0.0.1");
  return headers;
}

export async function proxyHttp(
  ctx: AppContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: ProxyTarget,
): Promise<void> {
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(ctx, target, req.headers.authorization);
  } catch (error) {
    sendJson(res, error instanceof ApiError ? error : new ApiError("internal_error", "proxy failed"));
    req.resume();
    return;
  }
  const { sprite, port, release } = prepared;
  res.once("close", release);
  const upstream = http.request({
    // Through the sprite's own namespace: no port here is shared with another sprite.
    createConnection: () => sprite.connectPort(port),
    method: req.method,
    path: target.path,
    headers: forwardedHeaders(req, sprite),
  });
  upstream.on("response", (upstreamRes) => {
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, upstreamRes.rawHeaders);
    // Flush each chunk as it arrives so streamed responses (SSE, NDJSON) are not held back.
    res.flushHeaders();
    upstreamRes.pipe(res);
    upstreamRes.on("error", () => res.destroy());
  });
  upstream.on("error", (error) => {
    sendJson(
      res,
      new ApiError(
        "bad_gateway",
        `nothing answered on port ${port} in sprite '${sprite.name}' (${error.message})`,
      ),
    );
  });
  res.once("close", () => {
    if (!res.writableFinished) {
      upstream.destroy();
    }
  });
  req.pipe(upstream);
}

/** WebSocket (and other Upgrade) requests through the sprite URL: a byte pipe once the request is relayed. */
export async function proxyUpgrade(
  ctx: AppContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: ProxyTarget,
): Promise<void> {
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(ctx, target, req.headers.authorization);
  } catch (error) {
    rejectUpgrade(socket, error instanceof ApiError ? error : new ApiError("internal_error", "proxy failed"));
    return;
  }
  const { sprite, port, release } = prepared;
  const upstream = sprite.connectPort(port);
  const cleanup = () => {
    release();
    upstream.destroy();
    socket.destroy();
  };
  upstream.once("error", () => {
    rejectUpgrade(
      socket,
      new ApiError("bad_gateway", `nothing answered on port ${port} in sprite '${sprite.name}'`),
    );
    release();
  });
  upstream.once("connect", () => {
    const headers = forwardedHeaders(req, sprite);
    let head1 = `${req.method ?? "GET"} ${target.path} HTTP/${req.httpVersion}\r\n`;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      head1 += `${headers[i]}: ${headers[i + 1]}\r\n`;
    }
    upstream.write(`${head1}\r\n`);
    if (head.length > 0) {
      upstream.write(head);
    }
    upstream.pipe(socket);
    socket.pipe(upstream);
    socket.once("close", cleanup);
    upstream.once("close", cleanup);
  });
  socket.on("error", cleanup);
}
