import { boxAgentContract } from "@vps-claude/contract/box-agent";
import { Hono } from "hono";
import type { RunOutcome, RunRequest } from "../agent/runner";
import type { SessionStore } from "../session-store";
import { contractRoute } from "./contract-route";

export interface SessionRoutesDeps {
  store: SessionStore;
  runWithSession: (request: RunRequest) => Promise<RunOutcome>;
}

export function sessionRoutes({ store, runWithSession }: SessionRoutesDeps): Hono {
  const app = new Hono();

  contractRoute(app, boxAgentContract.sessions.list, ({ limit, runs }) => ({
    sessions: store.listContexts({ limit, runsPerContext: runs }),
  }));

  contractRoute(app, boxAgentContract.sessions.send, (body) =>
    runWithSession({ prompt: body.message, contextType: body.contextType, contextId: body.contextId }),
  );

  return app;
}
