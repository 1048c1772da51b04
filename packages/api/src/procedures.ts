import { implement, ORPCError, os } from "@orpc/server";
import { boxContract, userContract } from "@vps-claude/contract";
import type { Logger } from "@vps-claude/logger";
import type { ApiDeps } from "./deps";
import { SERVICE_ERROR_STATUS, ServiceError } from "./errors";
import { authenticateBox } from "./services/box/authenticate-box";
import { getOwnedBox } from "./services/box/get-owned-box";

export interface RequestContext {
  deps: ApiDeps;
  headers: Headers;
  logger: Logger;
}

const middleware = os.$context<RequestContext>();

/** Turns the services' closed error set into HTTP errors in one place. */
const serviceErrors = middleware.middleware(async ({ next }) => {
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

const requireUser = middleware.middleware(async ({ context, next }) => {
  const user = await context.deps.sessions.resolve(context.headers);
  if (!user) {
    throw new ORPCError("UNAUTHORIZED", {
      status: 401,
      message: "You are not signed in. Sign in and try again.",
    });
  }
  return next({ context: { user, logger: context.logger.child({ userId: user.id }) } });
});

const requireBoxToken = middleware.middleware(async ({ context, next }) => {
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

/** The user API (`userContract`, served under /rpc); `userApi.router(...)` checks every route is implemented. */
export const userApi = implement(userContract).$context<RequestContext>();

export const publicProcedure = userApi.use(serviceErrors);

export const protectedProcedure = publicProcedure.use(requireUser);

/** Every route under `/box/{boxId}/…` first proves the box is the caller's. */
export const ownedBoxProcedure = protectedProcedure.use(async ({ context, next }, input: unknown) => {
  // Runs before input validation, so another user's box is a 404 whatever else the request got wrong.
  const boxId =
    typeof input === "object" && input !== null && "boxId" in input && typeof input.boxId === "string"
      ? input.boxId
      : "";
  const box = await getOwnedBox({ db: context.deps.db, userId: context.user.id, boxId });
  return next({ context: { box } });
});

/** The box API (`boxContract`, served under /box). */
export const boxApi = implement(boxContract).$context<RequestContext>();

/** A box route, authenticated with the box's own token (X-Box-Secret). */
export const boxProcedure = boxApi.use(serviceErrors).use(requireBoxToken);
