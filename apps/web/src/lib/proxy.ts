import { Agent } from "undici";
import { getServerUrl } from "./server-env";

/**
 * Node's fetch gives up on an answer whose headers take over 5 minutes, or whose body goes quiet for
 * 5 (undici's defaults). The API answers a blocking `sessions/send` when its run ends, which only the
 * run's own limit bounds (up to hours), and a run's event stream may be quiet between keep-alives;
 * so the proxy waits as long as the API does. The browser leaving still ends it (the request signal).
 */
const upstreamAgent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

// RFC 9110 §7.6.1: connection-specific fields are never forwarded. `host` is set by fetch for the upstream.
const HOP_BY_HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
  "host",
]);

// Headers only Next itself may set on internal requests; a client must not smuggle them through.
const INTERNAL_HEADERS = new Set(["x-middleware-subrequest"]);

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

function connectionListedHeaders(headers: Headers): Set<string> {
  const listed = headers.get("connection");
  if (!listed) {
    return new Set();
  }
  return new Set(
    listed
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name.length > 0),
  );
}

function forwardedRequestHeaders(request: Request, url: URL): Headers {
  const listed = connectionListedHeaders(request.headers);
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    if (HOP_BY_HOP_HEADERS.has(name) || INTERNAL_HEADERS.has(name) || listed.has(name)) {
      continue;
    }
    headers.append(name, value);
  }
  // `next start` fills x-forwarded-* from the socket when the client did not send them,
  // so they already describe the browser's connection; the URL is the fallback.
  const forwardedFor = request.headers.get("x-forwarded-for");
  if (forwardedFor) {
    headers.set("x-forwarded-for", forwardedFor);
  }
  headers.set("x-forwarded-host", request.headers.get("x-forwarded-host") ?? url.host);
  headers.set(
    "x-forwarded-proto",
    request.headers.get("x-forwarded-proto") ?? url.protocol.replace(/:$/, ""),
  );
  // fetch would transparently decompress the answer, which would then no longer match its
  // content-encoding header; ask for identity and let Next compress towards the browser.
  headers.set("accept-encoding", "identity");
  return headers;
}

function returnedResponseHeaders(upstream: Response): Headers {
  const listed = connectionListedHeaders(upstream.headers);
  const headers = new Headers();
  const decoded = upstream.headers.has("content-encoding");
  for (const [name, value] of upstream.headers) {
    if (HOP_BY_HOP_HEADERS.has(name) || listed.has(name) || name === "set-cookie") {
      continue;
    }
    if (decoded && (name === "content-encoding" || name === "content-length")) {
      continue;
    }
    headers.append(name, value);
  }
  // Set-Cookie values cannot be joined with commas (Expires contains one), so copy them one by one.
  for (const cookie of upstream.headers.getSetCookie()) {
    headers.append("set-cookie", cookie);
  }
  return headers;
}

/**
 * Forwards a request unchanged (method, path, query, streamed body, headers) to the API server
 * and passes its answer back, so the browser talks to one origin and cookies stay first-party.
 */
export async function proxyToApiServer(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const target = `${getServerUrl()}${url.pathname}${url.search}`;
  const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== null;
  const init: RequestInit & { duplex?: "half"; dispatcher?: Agent } = {
    method: request.method,
    headers: forwardedRequestHeaders(request, url),
    redirect: "manual",
    signal: request.signal,
    dispatcher: upstreamAgent,
  };
  if (hasBody) {
    init.body = request.body;
    // Required by fetch for a streamed request body.
    init.duplex = "half";
  }

  let upstream: Response;
  try {
    upstream = await fetch(target, init);
  } catch {
    if (request.signal.aborted) {
      return new Response(null, { status: 499 });
    }
    return Response.json(
      {
        code: "BAD_GATEWAY",
        status: 502,
        message: "The dashboard could not reach the API server. Check that it is running, then try again.",
      },
      { status: 502 },
    );
  }

  const body = request.method === "HEAD" || NULL_BODY_STATUSES.has(upstream.status) ? null : upstream.body;
  return new Response(body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: returnedResponseHeaders(upstream),
  });
}
