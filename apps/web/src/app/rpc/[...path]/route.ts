import { proxyToApiServer } from "@/lib/proxy";

export const dynamic = "force-dynamic";

export const GET = proxyToApiServer;
export const HEAD = proxyToApiServer;
export const POST = proxyToApiServer;
export const PUT = proxyToApiServer;
export const PATCH = proxyToApiServer;
export const DELETE = proxyToApiServer;
export const OPTIONS = proxyToApiServer;
