import { box, boxEmail } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import type { DeployRuntime } from "../deploy/deploy-runtime";
import { removeDeletedBox } from "./remove-box";

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The deleteBox job: the sandbox first (the rows stay until it is gone, so nothing is orphaned and
 * the owner sees why it is slow), then the rows by cascade, then everything stored for the box
 * outside the database: generated media, inbound attachments, outbox copies of what it sent.
 */
export async function teardownDeletedBox({
  deps,
  runtime,
  boxId,
  isFinalAttempt,
  logger,
}: {
  deps: ApiDeps;
  runtime: DeployRuntime;
  boxId: string;
  isFinalAttempt: boolean;
  /** The job's logger. */
  logger: Logger;
}): Promise<{ removed: boolean; spriteName: string | null }> {
  const [row] = await deps.db.select().from(box).where(eq(box.id, boxId));
  const spriteName = row?.spriteName ?? null;
  if (spriteName) {
    try {
      await runtime.sprites.deleteSprite(spriteName);
    } catch (err) {
      await deps.db
        .update(box)
        .set({
          errorMessage: `Removing the sandbox failed: ${messageOf(err)}; ${isFinalAttempt ? "delete the box again to retry" : "retrying"}`,
        })
        .where(eq(box.id, boxId));
      throw err;
    }
  }
  // Read before the cascade takes the rows that name the stored files.
  const emails = await deps.db
    .select({ id: boxEmail.id, direction: boxEmail.direction })
    .from(boxEmail)
    .where(eq(boxEmail.boxId, boxId));
  const removed = await removeDeletedBox({ db: deps.db, boxId });
  logger.info({ boxId, removed, sprite: spriteName }, "box deleted");
  if (!removed) {
    return { removed, spriteName };
  }
  const keys = [
    `boxes/${boxId}`,
    `media/${boxId}`,
    ...emails.filter((email) => email.direction === "inbound").map((email) => `attachments/${email.id}`),
  ];
  for (const key of keys) {
    await deps.storage.remove(key);
  }
  await deps.emailProvider.forget?.(
    emails.filter((email) => email.direction === "outbound").map((email) => email.id),
  );
  return { removed, spriteName };
}
