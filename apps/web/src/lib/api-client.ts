import { asApiError, readApiError } from "./api-error";
import type { Box } from "./box";

/** Calls the API through the dashboard's same-origin proxy; a non-2xx answer throws an ApiError. */
export async function requestJson<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
  }
  const response = await fetch(path, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: "same-origin",
    cache: "no-store",
    signal: init.signal,
  });
  if (!response.ok) {
    throw await readApiError(response);
  }
  const text = await response.text();
  return (text ? JSON.parse(text) : null) as T;
}

export function isUnauthorized(error: unknown): boolean {
  return asApiError(error)?.status === 401;
}

/** A path segment, escaped: ids and env keys come from the user or the server, never trusted as paths. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/** The API pages the list; a user has at most 1,000 boxes, so the dashboard simply walks every page. */
export const BOX_PAGE_SIZE = 200;

export async function collectBoxPages(
  fetchPage: (before: string | undefined, limit: number) => Promise<Box[]>,
): Promise<Box[]> {
  const boxes: Box[] = [];
  for (;;) {
    const page = await fetchPage(boxes.at(-1)?.id, BOX_PAGE_SIZE);
    boxes.push(...page);
    if (page.length < BOX_PAGE_SIZE) {
      return boxes;
    }
  }
}

export function boxPagePath(before: string | undefined, limit: number): string {
  return `/rpc/box?limit=${limit}${before ? `&before=${encodeURIComponent(before)}` : ""}`;
}

export const boxesApi = {
  list: () => collectBoxPages((before, limit) => requestJson<Box[]>(boxPagePath(before, limit))),
  get: (id: string) => requestJson<Box>(`/rpc/box/${encodeURIComponent(id)}`),
  create: (input: { name: string; skills?: string[] }) =>
    requestJson<Box>("/rpc/box", { method: "POST", body: input }),
  redeploy: (id: string) => requestJson<Box>("/rpc/box/deploy", { method: "POST", body: { id } }),
  remove: (id: string) => requestJson<Box>(`/rpc/box/${encodeURIComponent(id)}`, { method: "DELETE" }),
};
