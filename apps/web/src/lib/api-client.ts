import { asApiError } from "./api-error";
import type { Box } from "./box";

export function isUnauthorized(error: unknown): boolean {
  return asApiError(error)?.status === 401;
}

/** A path segment, escaped: ids and env keys come from the user or the server, never trusted as paths. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/** The API pages the list; a user has at most 1,000 boxes, so the dashboard simply walks every page. */
const BOX_PAGE_SIZE = 200;

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
