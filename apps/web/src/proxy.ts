import { type NextRequest, NextResponse } from "next/server";
import { getServerUrl } from "./lib/server-env";

/**
 * WebSocket upgrades under /rpc (a box's terminal) pass straight through to the API server. A route
 * handler cannot upgrade, and a next.config rewrite is frozen into the build with the API's URL of
 * that moment; a Proxy rewrite to an external URL is resolved per request, and `next start` pipes
 * the upgraded socket through with its headers as they came (the API checks cookie and Origin).
 */
export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  return NextResponse.rewrite(new URL(`${getServerUrl()}${pathname}${search}`));
}

export const config = {
  matcher: [{ source: "/rpc/:path*", has: [{ type: "header", key: "upgrade" }] }],
};
