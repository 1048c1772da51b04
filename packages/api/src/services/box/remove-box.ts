import { box, type Database } from "@vps-claude/db";
import { and, eq } from "drizzle-orm";

/**
 * The deleteBox worker's last step: drop the row (everything the box owns cascades). Only a box
 * still marked `deleting` goes, so a job that outlived its box is a no-op.
 */
export async function removeDeletedBox({ db, boxId }: { db: Database; boxId: string }): Promise<boolean> {
  const removed = await db
    .delete(box)
    .where(and(eq(box.id, boxId), eq(box.status, "deleting")))
    .returning({ id: box.id });
  return removed.length > 0;
}
