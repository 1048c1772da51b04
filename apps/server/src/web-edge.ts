import { CLIENT_ADDRESS_HEADER, carriesAuthCookie } from "@vps-claude/auth";
import { type Database, user } from "@vps-claude/db";
import { count, sql } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import { errorResponse } from "./api-error";
import { resolveClientAddress, type TrustedProxies } from "./client-address";
import type { ServerConfig } from "./config";

/** What the server's HTTP edge needs from the configuration. */
export type WebEdgeConfig = Pick<
  ServerConfig,
  "PUBLIC_URL" | "TRUSTED_ORIGINS" | "TRUSTED_PROXIES" | "SIGNUP"
>;

const forbidden = (c: Context, message: string) => errorResponse(c, "FORBIDDEN", message);

/** The API is never framed and its answers are never sniffed into another type. */
export function apiSecurityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header("x-content-type-options", "nosniff");
    c.header("x-frame-options", "DENY");
    if (!c.res.headers.has("content-security-policy")) {
      c.header("content-security-policy", "frame-ancestors 'none'");
    }
  };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

/**
 * A browser attaches the session cookie to a cross-site form POST; better-auth guards /api/auth,
 * this guards /rpc. A state-changing call that carries an auth cookie must come from the
 * dashboard's own origin (Origin, or Sec-Fetch-Site when a browser sends no Origin) and, when it
 * has a body, say it is JSON: no HTML form can send that without a CORS preflight we never grant.
 * Calls without cookies are not a CSRF vector and pass untouched.
 */
export function rpcCrossSiteGuard(config: WebEdgeConfig): MiddlewareHandler {
  const allowed = new Set(
    [config.PUBLIC_URL, ...config.TRUSTED_ORIGINS].map((value) => new URL(value).origin),
  );
  const expected = [...allowed].join(", ");
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method) || !carriesAuthCookie(c.req.raw.headers)) {
      return next();
    }
    const origin = c.req.header("origin");
    if (origin !== undefined) {
      if (!allowed.has(origin)) {
        return forbidden(
          c,
          `cross-site request refused: Origin '${origin}' is not the dashboard's (${expected}); call the API from the dashboard, or authenticate without cookies`,
        );
      }
    } else if (c.req.header("sec-fetch-site") !== "same-origin") {
      return forbidden(
        c,
        `cross-site request refused: a cookie-authenticated ${c.req.method} needs an Origin header (${expected}) or Sec-Fetch-Site: same-origin`,
      );
    }
    const contentType = c.req.header("content-type");
    const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
    const hasBody =
      (c.req.header("content-length") ?? "0") !== "0" || c.req.header("transfer-encoding") !== undefined;
    if ((contentType !== undefined || hasBody) && !(mediaType && JSON_MEDIA_TYPE.test(mediaType))) {
      return forbidden(
        c,
        `request refused: the API takes JSON bodies only (got Content-Type '${contentType ?? "none"}'); send Content-Type: application/json`,
      );
    }
    return next();
  };
}

/** better-auth keys its rate limits on this header; only our resolution of the peer may fill it. */
export function withClientAddress(
  request: Request,
  peer: string | undefined,
  trustedProxies: TrustedProxies,
): Request {
  const headers = new Headers(request.headers);
  headers.delete(CLIENT_ADDRESS_HEADER);
  const client = resolveClientAddress(peer, request.headers.get("x-forwarded-for"), trustedProxies);
  if (client) {
    headers.set(CLIENT_ADDRESS_HEADER, client);
  }
  return new Request(request, { headers });
}

// Any fixed 64-bit key, unique to this purpose among the platform's advisory locks.
const FIRST_ACCOUNT_LOCK = 7_311_101;

const SIGNUP_CLOSED_MESSAGE =
  "sign-up is closed on this platform: ask its operator for an account (npm run create-user)";

/**
 * SIGNUP=closed: only the very first account is made here (the operator's own), later ones by the
 * operator with `npm run create-user`. Two first sign-ups racing must not both succeed: the one
 * that takes the lock counts the users and signs up while holding it (the insert commits before
 * the handler returns); a concurrent one is told to retry, and then finds the account made.
 * A try-lock rather than a waiting lock: waiters would each pin a pooled connection the winner needs.
 */
export async function admitClosedSignUp(
  c: Context,
  db: Database,
  signUp: () => Promise<Response>,
): Promise<Response> {
  const users = async (executor: Pick<Database, "select">) => {
    const [row] = await executor.select({ n: count() }).from(user);
    return row?.n ?? 0;
  };
  if ((await users(db)) > 0) {
    return forbidden(c, SIGNUP_CLOSED_MESSAGE);
  }
  return db.transaction(async (tx) => {
    const locked = await tx.execute<{ locked: boolean }>(
      sql`select pg_try_advisory_xact_lock(${FIRST_ACCOUNT_LOCK}) as locked`,
    );
    if (!locked.rows[0]?.locked) {
      return errorResponse(c, "CONFLICT", "another sign-up is being processed; try again in a moment");
    }
    if ((await users(tx)) > 0) {
      return forbidden(c, SIGNUP_CLOSED_MESSAGE);
    }
    return signUp();
  });
}
