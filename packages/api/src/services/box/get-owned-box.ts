import { box, type Database } from "@vps-claude/db";
import { and, eq } from "drizzle-orm";
import { notFound } from "../../errors";

/**
 * The one gate for every box-scoped user route: another user's box is indistinguishable from a
 * box that does not exist (404), so ids cannot be probed.
 */
export async function getOwnedBox({ db, userId, boxId }: { db: Database; userId: string; boxId: string }) {
  const [row] = await db
    .select()
    .from(box)
    .where(and(eq(box.id, boxId), eq(box.userId, userId)))
    .limit(1);
  if (!row) {
    throw notFound("box", boxId);
  }
  return row;
}
