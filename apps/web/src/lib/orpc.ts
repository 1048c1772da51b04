import { createORPCClient } from "@orpc/client";
import type { ContractRouterClient } from "@orpc/contract";
import type { JsonifiedClient } from "@orpc/openapi-client";
import { OpenAPILink } from "@orpc/openapi-client/fetch";
import { createTanstackQueryUtils } from "@orpc/tanstack-query";
import { type UserContract, userContract } from "@vps-claude/contract";

/**
 * The user API, typed from `userContract` and called through the dashboard's same-origin `/rpc` proxy
 * (the session cookie rides along). Answers are JSON, so timestamps arrive as ISO strings: the
 * client's type says so (`JsonifiedClient`).
 */
export type UserApi = JsonifiedClient<ContractRouterClient<UserContract>>;

const link = new OpenAPILink(userContract, {
  url: () => `${window.location.origin}/rpc`,
  fetch: (request, init) =>
    globalThis.fetch(request, { ...init, credentials: "same-origin", cache: "no-store" }),
});

export const api: UserApi = createORPCClient(link);

/** TanStack Query options for every route: `orpc.box.get.queryOptions({ input: { id } })`, `.key()` to invalidate. */
export const orpc = createTanstackQueryUtils(api);
