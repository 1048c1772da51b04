import { queryOptions } from "@tanstack/react-query";
import { collectBoxPages } from "./api-client";
import { type Box, isTransitional } from "./box";
import { api, orpc } from "./orpc";

/** How often a view re-reads while something it shows is still changing on its own (a deploy, a run). */
export const TRANSITIONAL_POLL_MS = 3_000;

/** Every box of the user (the API pages the list; the dashboard walks all pages), newest first. */
export function boxesQuery() {
  return queryOptions({
    queryKey: orpc.box.list.key(),
    queryFn: async ({ signal }): Promise<Box[]> =>
      collectBoxPages((before, limit) => api.box.list({ limit, ...(before ? { before } : {}) }, { signal })),
    // Poll only while a box is deploying or being deleted.
    refetchInterval: (query) =>
      query.state.data?.some((box) => isTransitional(box.status)) ? TRANSITIONAL_POLL_MS : false,
  });
}

export function boxQuery(id: string) {
  return orpc.box.get.queryOptions({
    input: { id },
    refetchInterval: (query) =>
      query.state.data && isTransitional(query.state.data.status) ? TRANSITIONAL_POLL_MS : false,
  });
}
