import { boxAgentContract } from "@vps-claude/contract/box-agent";
import { Hono } from "hono";
import type { SessionStore } from "../session-store";
import { contractRoute } from "./contract-route";

export interface SessionRoutesDeps {
  store: Pick<SessionStore, "listContexts">;
}

export function sessionRoutes({ store }: SessionRoutesDeps): Hono {
  const app = new Hono();

  contractRoute(app, boxAgentContract.sessions.list, ({ limit, runs }) => ({
    sessions: store.listContexts({ limit, runsPerContext: runs }),
  }));

  return app;
}
