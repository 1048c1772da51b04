import { account, type Database, rateLimit, session, user, verification } from "@vps-claude/db";
import { type ID_PREFIXES, newId } from "@vps-claude/shared";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";

export interface CreateAuthOptions {
  db: Database;
  secret: string;
  /** The dashboard origin users sign in at; better-auth checks every POST's Origin against it. */
  baseURL: string;
  trustedOrigins?: string[];
  rateLimit?: { enabled: boolean; window?: number; max?: number };
}

/** Set only by the server's edge; the rate limiter and session records read the client address here. */
export const CLIENT_ADDRESS_HEADER = "x-vps-client-address";

const MODEL_PREFIX: Record<string, keyof typeof ID_PREFIXES> = {
  user: "user",
  session: "session",
  account: "account",
  verification: "verification",
  rateLimit: "rateLimit",
};

export function createAuth({
  db,
  secret,
  baseURL,
  trustedOrigins = [],
  rateLimit: limits,
}: CreateAuthOptions) {
  return betterAuth({
    secret,
    baseURL,
    basePath: "/api/auth",
    trustedOrigins: [baseURL, ...trustedOrigins],
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: { user, session, account, verification, rateLimit },
    }),
    emailAndPassword: {
      enabled: true,
      minPasswordLength: 8,
      maxPasswordLength: 128,
      autoSignIn: true,
    },
    session: {
      expiresIn: 60 * 60 * 24 * 30,
      updateAge: 60 * 60 * 24,
      // A signed copy of the session in a short-lived cookie spares two queries per request.
      // Revoking a session elsewhere takes effect within this minute; signing out here is immediate.
      cookieCache: { enabled: true, maxAge: 60 },
    },
    rateLimit: {
      enabled: limits?.enabled ?? true,
      storage: "database",
      window: limits?.window ?? 60,
      max: limits?.max ?? 100,
      customRules: {
        "/sign-in/email": { window: 60, max: limits?.enabled === false ? 1_000_000 : 10 },
        "/sign-up/email": { window: 60, max: limits?.enabled === false ? 1_000_000 : 10 },
      },
    },
    advanced: {
      // better-auth skips the Origin check when it detects a test runner; we want the production
      // behaviour everywhere, so the tests exercise what users get.
      disableOriginCheck: false,
      disableCSRFCheck: false,
      // Whatever NODE_ENV says: a dashboard served over https must never let its session travel in clear.
      useSecureCookies: new URL(baseURL).protocol === "https:",
      database: {
        generateId: ({ model }) => newId(MODEL_PREFIX[model] ?? "verification"),
      },
      // The server's edge resolves the client (socket peer, or X-Forwarded-For from TRUSTED_PROXIES only)
      // and states it in this header, after dropping any copy the caller sent.
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
    },
    telemetry: { enabled: false },
  });
}

export type Auth = ReturnType<typeof createAuth>;

export interface NewAccount {
  email: string;
  password: string;
  name: string;
}

/**
 * An account made by the operator (SIGNUP=closed), through better-auth's own sign-up so the
 * password is hashed and validated exactly as on the web. Sign-up also signs in; that session is
 * nobody's, so it is revoked at once.
 */
export async function createUserAccount(auth: Auth, account: NewAccount): Promise<SessionUser> {
  const result = await auth.api.signUpEmail({ body: account });
  if (result.token) {
    const context = await auth.$context;
    await context.internalAdapter.deleteSession(result.token);
  }
  return { id: result.user.id, email: result.user.email, name: result.user.name };
}

export interface SessionUser {
  id: string;
  email: string;
  name: string;
}

/** The signed-in user for a request's cookies, or null. */
export async function getSessionUser(auth: Auth, headers: Headers): Promise<SessionUser | null> {
  const result = await auth.api.getSession({ headers });
  if (!result) {
    return null;
  }
  return { id: result.user.id, email: result.user.email, name: result.user.name };
}

const SESSION_COOKIE = /(?:^|;\s*)(?:__Secure-)?better-auth\.session_token=([^;]+)/;
const ANY_AUTH_COOKIE = /(?:^|;\s*)(?:__Secure-)?better-auth\.[\w-]+=/;

/** Whether a request carries any of better-auth's cookies: what makes a cross-site request dangerous. */
export function carriesAuthCookie(headers: Headers): boolean {
  return ANY_AUTH_COOKIE.test(headers.get("cookie") ?? "");
}

export interface SessionResolver {
  /** The signed-in user for a request, from a short in-process cache when the same cookie was just seen. */
  resolve(headers: Headers): Promise<SessionUser | null>;
  /** Drops what the cache knows about this request's session (sign-out). */
  forget(headers: Headers): void;
}

/**
 * better-auth's getSession costs about a millisecond even from its cookie cache; most requests are
 * the same browser polling. Only cookies better-auth has just validated are remembered, keyed by the
 * signed cookie value, for a few seconds — less than the signed cookie cache (60 s) that already
 * bounds how long a session revoked elsewhere keeps working. Signing out here evicts at once.
 */
export function createSessionResolver(auth: Auth, { ttlMs = 10_000, max = 10_000 } = {}): SessionResolver {
  const cache = new Map<string, { user: SessionUser; until: number }>();
  const keyOf = (headers: Headers) => SESSION_COOKIE.exec(headers.get("cookie") ?? "")?.[1];
  return {
    async resolve(headers) {
      const key = keyOf(headers);
      if (!key) {
        return null;
      }
      const now = Date.now();
      const hit = cache.get(key);
      if (hit && hit.until > now) {
        return hit.user;
      }
      const user = await getSessionUser(auth, headers);
      cache.delete(key);
      if (user) {
        if (cache.size >= max) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) {
            cache.delete(oldest);
          }
        }
        cache.set(key, { user, until: now + ttlMs });
      }
      return user;
    },
    forget(headers) {
      const key = keyOf(headers);
      if (key) {
        cache.delete(key);
      }
    },
  };
}
