import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { errorResponse } from "./errors";

export const BOX_SECRET_HEADER = "x-box-secret";

/** Hashing first gives equal-length buffers, so the comparison time says nothing about the token. */
export function secretsMatch(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The platform calls box-agent with the same per-box token box-agent uses to call the platform. */
export function requireBoxSecret(boxSecret: string, openPaths: ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    if (openPaths.has(c.req.path)) {
      return next();
    }
    const given = c.req.header(BOX_SECRET_HEADER);
    if (given === undefined || given === "" || !secretsMatch(given, boxSecret)) {
      return errorResponse(c, "UNAUTHORIZED", `missing or wrong ${BOX_SECRET_HEADER} header`);
    }
    return next();
  };
}
