import { createORPCClient } from "@orpc/client";
import type { ContractRouterClient } from "@orpc/contract";
import type { JsonifiedClient } from "@orpc/openapi-client";
import { OpenAPILink } from "@orpc/openapi-client/fetch";
import { createTanstackQueryUtils } from "@orpc/tanstack-query";
import type { UserContract } from "@vps-claude/contract";
import minifiedContract from "./user-contract.json";

/**
 * The user API, typed from `userContract` and called through the dashboard's same-origin `/rpc` proxy
 * (the session cookie rides along). Answers are JSON, so timestamps arrive as ISO strings: the
 * client's type says so (`JsonifiedClient`).
 */
export type UserApi = JsonifiedClient<ContractRouterClient<UserContract>>;

/**
 * The contract's routes without their schemas (`npm run -w @vps-claude/web contract:json` writes it;
 * a test says when it is stale): the link needs only methods and paths, and the full contract would
 * put every zod schema of the API in the browser's first load. Its type is the real contract's.
 */
const contract = minifiedContract as unknown as UserContract;

const link = new OpenAPILink(contract, {
  url: () => `${window.location.origin}/rpc`,
  fetch: (request, init) =>
    globalThis.fetch(request, { ...init, credentials: "same-origin", cache: "no-store" }),
});

export const api: UserApi = createORPCClient(link);

/** TanStack Query options for every route: `orpc.box.get.queryOptions({ input: { id } })`, `.key()` to invalidate. */
export const orpc = createTanstackQueryUtils(api);
