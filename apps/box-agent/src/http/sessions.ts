import { Hono } from "hono";
import { z } from "zod";
import type { RunOutcome, RunRequest } from "../agent/runner";
import { CONTEXT_TYPES, type SessionStore } from "../session-store";
import { parseJsonBody, parseQuery } from "./validation";

export interface SessionRoutesDeps {
  store: SessionStore;
  runWithSession: (request: RunRequest) => Promise<RunOutcome>;
}

const contextIdSchema = z.string().trim().min(1).max(256);

const sendSchema = z.object({
  contextType: z.enum(CONTEXT_TYPES).default("session"),
  contextId: contextIdSchema,
  message: z.string().min(1, "message must not be empty").max(200_000),
});

const listSchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  runs: z.coerce.number().int().min(1).max(100).default(5),
});

export function sessionRoutes({ store, runWithSession }: SessionRoutesDeps): Hono {
  const app = new Hono();

  app.get("/list", (c) => {
    const { limit, runs } = parseQuery(c, listSchema);
    return c.json({ sessions: store.listContexts({ limit, runsPerContext: runs }) });
  });

  app.post("/send", async (c) => {
    const body = await parseJsonBody(c, sendSchema);
    const outcome = await runWithSession({
      prompt: body.message,
      contextType: body.contextType,
      contextId: body.contextId,
    });
    return c.json(outcome);
  });

  return app;
}
