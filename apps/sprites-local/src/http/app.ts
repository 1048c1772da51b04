import { Hono } from "hono";
import { ApiError, FsError } from "../domain/errors.js";
import { bearerMatches } from "./auth.js";
import type { AppContext, AppEnv } from "./context.js";
import { apiErrorBody, apiErrorStatus, fsErrorBody, fsErrorStatus } from "./errors.js";
import { checkpointRoutes } from "./routes/checkpoints.js";
import { execHttpRoutes } from "./routes/exec.js";
import { fsRoutes } from "./routes/fs.js";
import { networkPolicyRoutes } from "./routes/network-policy.js";
import { resourcePolicyRoutes } from "./routes/resource-policy.js";
import { serviceRoutes } from "./routes/services.js";
import { spriteRoutes } from "./routes/sprites.js";

/** The REST part of the Sprites API (WebSocket exec and the sprite URL proxy live in server.ts). */
export function createApp(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/health", (c) => c.json({ ok: true }));

  app.use("/v1/*", async (c, next) => {
    if (!bearerMatches(c.req.header("authorization"), ctx.token)) {
      throw new ApiError("unauthorized", "missing or invalid API token (send Authorization: Bearer <token>)");
    }
    await next();
  });

  // Work on a sprite wakes it; the record endpoints (/v1/sprites/:name) deliberately do not.
  app.use("/v1/sprites/:name/*", async (c, next) => {
    // Hono's trailing wildcard also matches the record itself (/v1/sprites/:name), which must not wake;
    // nor do the network and resource policies, which are records too.
    const segments = c.req.path.split("/").filter(Boolean);
    if (
      segments.length <= 3 ||
      (segments[3] === "policy" && (segments[4] === "network" || segments[4] === "resources"))
    ) {
      await next();
      return;
    }
    const sprite = ctx.registry.get(c.req.param("name"));
    c.set("sprite", sprite);
    await sprite.wake();
    try {
      await next();
    } finally {
      sprite.touch();
    }
  });

  app.get("/v1/local/confinement", (c) => c.json(ctx.confinement));
  app.route("/v1/sprites/:name/policy/network", networkPolicyRoutes(ctx));
  app.route("/v1/sprites/:name/policy/resources", resourcePolicyRoutes(ctx));
  app.route("/v1/sprites", spriteRoutes(ctx));
  app.route("/v1/sprites/:name/exec", execHttpRoutes());
  app.route("/v1/sprites/:name/fs", fsRoutes());
  app.route("/v1/sprites/:name/services", serviceRoutes());
  app.route("/v1/sprites/:name", checkpointRoutes(ctx));

  app.notFound((c) =>
    c.json(
      apiErrorBody(new ApiError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)),
      404,
    ),
  );

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return c.json(apiErrorBody(error), apiErrorStatus(error));
    }
    if (error instanceof FsError) {
      return c.json(fsErrorBody(error), fsErrorStatus(error));
    }
    ctx.logger.error(
      { err: error, method: c.req.method, path: new URL(c.req.url).pathname },
      "request failed",
    );
    return c.json(
      apiErrorBody(new ApiError("internal_error", "internal error in sprites-local; see its log")),
      500,
    );
  });

  return app;
}
