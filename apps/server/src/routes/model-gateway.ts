import type { IncomingMessage } from "node:http";
import { ServerResponse } from "node:http";
import { ANSWERED_ON_NODE, type ApiDeps, createModelGateway } from "@vps-claude/api";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";

export const MODEL_GATEWAY_PREFIX = "/box/llm";

/** @hono/node-server's marker (X_ALREADY_SENT) for "the handler wrote the response itself". */
const ALREADY_SENT_HEADER = "x-hono-already-sent";

/** The Node exchange behind a request when @hono/node-server serves it (not for in-process `app.fetch`). */
function nodeExchange(env: unknown) {
  const bindings = env as { incoming?: IncomingMessage; outgoing?: unknown } | undefined;
  return bindings?.incoming && bindings.outgoing instanceof ServerResponse
    ? { incoming: bindings.incoming, outgoing: bindings.outgoing }
    : undefined;
}

/**
 * `/box/llm/*`: the Anthropic API as a box sees it. The box's own token is its API key; the
 * gateway adds the real key, forwards, streams the answer back and meters it (see createModelGateway).
 * `close()` writes the metering rows still batched, so a graceful shutdown loses none.
 */
export function createModelGatewayRoutes(deps: ApiDeps): { routes: Hono<AppEnv>; close(): Promise<void> } {
  const gateway = createModelGateway({ deps, config: deps.config.modelGateway });
  const app = new Hono<AppEnv>();
  app.all("/*", async (c) => {
    const answer = await gateway.handle({
      request: c.req.raw,
      path: c.req.path.slice(MODEL_GATEWAY_PREFIX.length),
      logger: c.get("logger"),
      node: nodeExchange(c.env),
    });
    return answer === ANSWERED_ON_NODE
      ? new Response(null, { headers: { [ALREADY_SENT_HEADER]: "true" } })
      : answer;
  });
  return { routes: app, close: () => gateway.close() };
}
