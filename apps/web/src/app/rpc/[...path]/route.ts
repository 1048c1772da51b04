import { proxyToApiServer } from "@/lib/proxy";

export const dynamic = "force-dynamic";

/**
 * The API's answers, passed through. A `text/event-stream` (a run's live transcript) must reach the
 * browser event by event: `no-transform` keeps Next's gzip (and any proxy honouring it) from holding
 * events back to compress them, and `X-Accel-Buffering: no` tells nginx-style proxies in front of
 * the dashboard not to buffer it. The body itself is the API's stream, piped as it comes.
 */
async function proxyRpc(request: Request): Promise<Response> {
  const response = await proxyToApiServer(request);
  if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
    response.headers.set("cache-control", "no-cache, no-transform");
    response.headers.set("x-accel-buffering", "no");
    response.headers.delete("content-length");
  }
  return response;
}

export const GET = proxyRpc;
export const HEAD = proxyRpc;
export const POST = proxyRpc;
export const PUT = proxyRpc;
export const PATCH = proxyRpc;
export const DELETE = proxyRpc;
export const OPTIONS = proxyRpc;
