import { randomUUID } from "node:crypto";
import { getConnInfo } from "@hono/node-server/conninfo";
import { OpenAPIHandler } from "@orpc/openapi/fetch";
import { ORPCError, onError, ValidationError } from "@orpc/server";
import {
  API_ERROR_STATUS,
  type ApiDeps,
  apiErrorCodeForStatus,
  boxApiRouter,
  isApiErrorCode,
  userRouter,
} from "@vps-claude/api";
import type { Logger } from "@vps-claude/logger";
import type { Redis } from "@vps-claude/redis";
import { sql } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { errorResponse } from "./api-error";
import type { AppEnv } from "./app-env";
import { createTrustedProxies } from "./client-address";
import { createModelGatewayRoutes, MODEL_GATEWAY_PREFIX } from "./routes/model-gateway";
import { generateOpenApiDocument } from "./routes/openapi";
import { renderApiReference } from "./routes/reference";
import { createTerminalRoute } from "./routes/terminal";
import { createWebhookRoutes } from "./routes/webhooks";
import {
  admitClosedSignUp,
  apiSecurityHeaders,
  rpcCrossSiteGuard,
  type WebEdgeConfig,
  withClientAddress,
} from "./web-edge";

export interface CreateAppOptions {
  deps: ApiDeps;
  /** Checked by /health beside Postgres. */
  redis: Redis;
  /** Origins, trusted proxies and the sign-up policy the HTTP edge enforces. */
  edge: WebEdgeConfig;
}

function summarizeIssues(error: ValidationError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        ?.map((part) => (typeof part === "object" ? String(part.key) : String(part)))
        .join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/**
 * Input validation failures become one readable 400 that names each bad field. Anything that is not
 * an expected (4xx) error is logged with the request id; the client gets oRPC's generic 500.
 * A code outside the API's closed set (one of oRPC's own) is answered as the set's code for its status.
 */
function clarifyErrors(error: unknown, logger: Logger): void {
  if (error instanceof ORPCError && error.code === "BAD_REQUEST" && error.cause instanceof ValidationError) {
    throw new ORPCError("BAD_REQUEST", {
      status: 400,
      message: `Invalid input: ${summarizeIssues(error.cause)}`,
      data: { issues: error.cause.issues.map((issue) => ({ path: issue.path, message: issue.message })) },
      cause: error.cause,
    });
  }
  if (!(error instanceof ORPCError) || error.status >= 500) {
    logger.error({ err: error }, "unexpected error in procedure");
  }
  if (error instanceof ORPCError && !isApiErrorCode(error.code)) {
    const code = apiErrorCodeForStatus(error.status);
    throw new ORPCError(code, {
      status: API_ERROR_STATUS[code],
      message: error.message,
      data: error.data,
      cause: error,
    });
  }
}

/** The TCP peer when served by @hono/node-server; undefined for in-process calls (tests, benches). */
function peerAddress(c: Context<AppEnv>): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

export function createApp({ deps, redis, edge }: CreateAppOptions) {
  const app = new Hono<AppEnv>();
  const rootLogger = deps.logger;
  const trustedProxies = createTrustedProxies(edge.TRUSTED_PROXIES);

  const userHandler = new OpenAPIHandler(userRouter, {
    clientInterceptors: [onError((error, { context }) => clarifyErrors(error, context.logger))],
  });
  const boxHandler = new OpenAPIHandler(boxApiRouter, {
    clientInterceptors: [onError((error, { context }) => clarifyErrors(error, context.logger))],
  });

  app.use("*", async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    c.set("logger", rootLogger.child({ requestId }));
    await next();
    c.header("x-request-id", requestId);
  });
  app.use("*", apiSecurityHeaders());
  app.use("/rpc/*", rpcCrossSiteGuard(edge));

  // Generous for API calls (an email body is at most 500 KiB of markdown), small enough to refuse abuse early;
  // audio for transcription is the one large upload.
  const limitTo = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: (c) =>
        errorResponse(c, "PAYLOAD_TOO_LARGE", `request body is larger than ${maxSize / 1024 / 1024} MiB`),
    });
  const limitBody = limitTo(2 * 1024 * 1024);
  const limitAudio = limitTo(15 * 1024 * 1024);
  app.use("/rpc/*", limitBody);
  // The model gateway bounds its own bodies (model requests are far larger) and answers in the API's error shape.
  app.use("/box/*", (c, next) =>
    c.req.path.startsWith(`${MODEL_GATEWAY_PREFIX}/`)
      ? next()
      : c.req.path === "/box/ai/speech-to-text"
        ? limitAudio(c, next)
        : limitBody(c, next),
  );
  app.use("/webhooks/*", limitBody);
  app.use("/api/auth/*", limitBody);

  app.get("/health", async (c) => {
    const checks: Record<string, "ok" | string> = {};
    await Promise.all([
      deps.db
        .execute(sql`select 1`)
        .then(() => {
          checks.postgres = "ok";
        })
        .catch((err: unknown) => {
          checks.postgres = err instanceof Error ? err.message : "unreachable";
        }),
      Promise.race([
        redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), 2_000).unref()),
      ])
        .then(() => {
          checks.redis = "ok";
        })
        .catch((err: unknown) => {
          checks.redis = err instanceof Error ? err.message : "unreachable";
        }),
    ]);
    const healthy = Object.values(checks).every((value) => value === "ok");
    return c.json({ status: healthy ? "ok" : "degraded", checks }, healthy ? 200 : 503);
  });

  app.on(["GET", "POST"], "/api/auth/*", async (c) => {
    const request = c.req.raw;
    if (
      c.req.path.endsWith("/sign-out") ||
      c.req.path.endsWith("/revoke-session") ||
      c.req.path.endsWith("/revoke-sessions")
    ) {
      deps.sessions.forget(request.headers);
    }
    // Rate limiting keys on the client address: the socket peer, or what TRUSTED_PROXIES forward.
    const authRequest = withClientAddress(request, peerAddress(c), trustedProxies);
    if (edge.SIGNUP === "closed" && c.req.method === "POST" && c.req.path.startsWith("/api/auth/sign-up")) {
      return admitClosedSignUp(c, deps.db, () => deps.auth.handler(authRequest));
    }
    return deps.auth.handler(authRequest);
  });

  app.route("/webhooks", createWebhookRoutes(deps));

  app.get("/openapi.json", async (c) => c.json(await generateOpenApiDocument()));
  app.get("/docs", async (c) => c.html(renderApiReference(await generateOpenApiDocument())));

  app.all("/rpc/*", async (c) => {
    const logger = c.get("logger");
    const { matched, response } = await userHandler.handle(c.req.raw, {
      prefix: "/rpc",
      context: { deps, headers: c.req.raw.headers, logger },
    });
    if (matched) {
      return response;
    }
    return errorResponse(c, "NOT_FOUND", `No API route for ${c.req.method} ${c.req.path}`);
  });

  const modelGateway = createModelGatewayRoutes(deps);
  app.route(MODEL_GATEWAY_PREFIX, modelGateway.routes);

  app.all("/box/*", async (c) => {
    const logger = c.get("logger");
    const { matched, response } = await boxHandler.handle(c.req.raw, {
      prefix: "/box",
      context: { deps, headers: c.req.raw.headers, logger },
    });
    if (matched) {
      return response;
    }
    return errorResponse(c, "NOT_FOUND", `No box route for ${c.req.method} ${c.req.path}`);
  });

  app.notFound((c) => errorResponse(c, "NOT_FOUND", `Nothing at ${c.req.method} ${c.req.path}`));

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      return errorResponse(c, apiErrorCodeForStatus(err.status), err.message);
    }
    c.get("logger").error({ err }, "unhandled error");
    return errorResponse(
      c,
      "INTERNAL_SERVER_ERROR",
      "Something went wrong on our side. Try again; if it persists, check the server logs.",
    );
  });

  // WebSockets bypass Hono: the HTTP server hands its `upgrade` events to `upgrade`.
  const terminals = createTerminalRoute({ deps, edge });

  return Object.assign(app, {
    upgrade: terminals.handleUpgrade,
    /** Before the listener closes: an open WebSocket would hold its close() open. */
    closeTerminals: terminals.close,
    /** Finishes what the app still holds after the listener closed (the gateway's batched metering). */
    close: modelGateway.close,
  });
}

export type App = ReturnType<typeof createApp>;
