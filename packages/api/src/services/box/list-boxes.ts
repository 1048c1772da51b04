import { box, preparedPerDatabase } from "@vps-claude/db";
import { and, desc, eq, lt, or, type SQL, sql } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { type BoxDto, toBoxDto } from "./box-dto";

/** Only what the list shows: never the encrypted access password or internal deploy state. */
const listColumns = {
  id: box.id,
  name: box.name,
  subdomain: box.subdomain,
  status: box.status,
  errorMessage: box.errorMessage,
  skills: box.skills,
  spriteUrl: box.spriteUrl,
  createdAt: box.createdAt,
  updatedAt: box.updatedAt,
};

/** The first page is what the dashboard polls: a prepared statement skips query building and planning. */
const firstPageQuery = preparedPerDatabase((db) =>
  db
    .select(listColumns)
    .from(box)
    .where(eq(box.userId, sql.placeholder("userId")))
    .orderBy(desc(box.createdAt), desc(box.id))
    .limit(sql.placeholder("limit"))
    .prepare("list_boxes_first_page"),
);

/**
 * A page of the user's boxes, newest first. `before` is the id of the last box of the previous page;
 * the (user_id, created_at) index serves both the filter and the order.
 */
export async function listBoxes({
  deps,
  userId,
  limit = 50,
  before,
}: {
  deps: ApiDeps;
  userId: string;
  limit?: number;
  before?: string;
}): Promise<BoxDto[]> {
  if (!before) {
    const rows = await firstPageQuery(deps.db).execute({ userId, limit });
    return rows.map((row) => toBoxDto(row, deps.config.agentsDomain));
  }
  const conditions: SQL[] = [eq(box.userId, userId)];
  {
    const [cursor] = await deps.db
      .select({ createdAt: box.createdAt })
      .from(box)
      .where(and(eq(box.id, before), eq(box.userId, userId)))
      .limit(1);
    if (cursor) {
      const older = or(
        lt(box.createdAt, cursor.createdAt),
        and(eq(box.createdAt, cursor.createdAt), lt(box.id, before)),
      );
      if (older) {
        conditions.push(older);
      }
    }
  }
  const rows = await deps.db
    .select(listColumns)
    .from(box)
    .where(and(...conditions))
    .orderBy(desc(box.createdAt), desc(box.id))
    .limit(limit);
  return rows.map((row) => toBoxDto(row, deps.config.agentsDomain));
}
