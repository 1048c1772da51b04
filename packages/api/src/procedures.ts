import { ORPCError, os } from "@orpc/server";
import type { Logger } from "@vps-claude/logger";
import type { ApiDeps } from "./deps";
import { SERVICE_ERROR_STATUS, ServiceError } from "./errors";
import { authenticateBox } from "./services/box/authenticate-box";

export interface RequestContext {
  deps: ApiDeps;
  headers: Headers;
  logger: Logger;
}

/** Turns the services' closed error set into HTTP errors in one place. */
const base = os.$context<RequestContext>().use(async ({ next }) => {
  try {
    return await next();
  } catch (err) {
    if (err instanceof ServiceError) {
      throw new ORPCError(err.code, {
        status: SERVICE_ERROR_STATUS[err.code],
        message: err.message,
        data: err.data,
      });
    }
    throw err;
  }
});

export const publicProcedure = base;

export const protectedProcedure = base.use(async ({ context, next }) => {
  const user = await context.deps.sessions.resolve(context.headers);
  if (!user) {
    throw new ORPCError("UNAUTHORIZED", {
      status: 401,
      message: "You are not signed in. Sign in and try again.",
    });
  }
  return next({ context: { user, logger: context.logger.child({ userId: user.id }) } });
});

export const boxProcedure = base.use(async ({ context, next }) => {
  const box = await authenticateBox({
    db: context.deps.db,
    keyring: context.deps.keyring,
    pepper: context.deps.config.tokenPepper,
    token: context.headers.get("x-box-secret"),
  });
  if (!box) {
    throw new ORPCError("UNAUTHORIZED", {
      status: 401,
      message: "Missing or invalid X-Box-Secret header: box routes need the box's own token.",
    });
  }
  return next({ context: { box, logger: context.logger.child({ boxId: box.id }) } });
});
