import type { BoxAgentHealth } from "@vps-claude/contract/box-agent";
import type { Logger } from "@vps-claude/logger";
import { Hono } from "hono";
import { type AgentRunner, ShuttingDownError } from "./agent/runner";
import type { BoxApiClient } from "./box-api";
import type { Inbox } from "./email/inbox";
import { requireBoxSecret } from "./http/auth";
import { emailRoutes } from "./http/email";
import { errorResponse, HttpError } from "./http/errors";
import { runRoutes } from "./http/runs";
import { sessionRoutes } from "./http/sessions";
import type { SessionStore } from "./session-store";

export interface BoxAgentAppDeps {
  boxId: string;
  boxSecret: string;
  version: string;
  /** When the daemon started, for `uptime` (ms since epoch). */
  startedAt: number;
  store: SessionStore;
  runner: Pick<AgentRunner, "accept" | "get" | "cancel" | "events" | "acceptingRuns">;
  inbox: Inbox;
  boxApi: Pick<BoxApiClient, "forward">;
  logger: Logger;
}

const OPEN_PATHS = new Set(["/health"]);

/** The box-agent HTTP API, served from `boxAgentContract`; {@link createBoxAgent} composes it with its parts. */
export function createBoxAgentApp(deps: BoxAgentAppDeps): Hono {
  const app = new Hono();

  app.use("*", requireBoxSecret(deps.boxSecret, OPEN_PATHS));

  app.get("/health", (c) =>
    c.json({
      ok: true,
      boxId: deps.boxId,
      version: deps.version,
      uptime: Math.round((Date.now() - deps.startedAt) / 1000),
    } satisfies BoxAgentHealth),
  );

  // The route files spell the contract's full paths, so each is mounted at the root.
  app.route("/", runRoutes({ runner: deps.runner, runs: deps.store.runs }));
  app.route("/", sessionRoutes({ store: deps.store }));
  app.route(
    "/",
    emailRoutes({ inbox: deps.inbox, runner: deps.runner, boxApi: deps.boxApi, logger: deps.logger }),
  );

  app.notFound((c) => errorResponse(c, "NOT_FOUND", `no route ${c.req.method} ${c.req.path}`));

  app.onError((error, c) => {
    if (error instanceof HttpError) {
      return errorResponse(c, error.code, error.message);
    }
    if (error instanceof ShuttingDownError) {
      return errorResponse(c, "SHUTTING_DOWN", error.message);
    }
    deps.logger.error({ err: error, method: c.req.method, path: c.req.path }, "request failed");
    return errorResponse(c, "INTERNAL", "box-agent failed to handle the request; see its log");
  });

  return app;
}
