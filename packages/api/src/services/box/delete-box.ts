import { box } from "@vps-claude/db";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { enqueueOrFail } from "../queue/enqueue-or-fail";
import { type BoxDto, toBoxDto } from "./box-dto";
import { getOwnedBox } from "./get-owned-box";

/**
 * Marks the box `deleting` and leaves the teardown (sandbox, then rows by cascade) to the deleteBox
 * worker, which retries until the sandbox is gone. Deleting twice is harmless.
 */
export async function deleteBox({
  deps,
  userId,
  boxId,
}: {
  deps: ApiDeps;
  userId: string;
  boxId: string;
}): Promise<BoxDto> {
  await getOwnedBox({ db: deps.db, userId, boxId });
  const [updated] = await deps.db
    .update(box)
    .set({ status: "deleting", errorMessage: null })
    .where(eq(box.id, boxId))
    .returning();
  if (!updated) {
    throw new ServiceError("NOT_FOUND", `box '${boxId}' was not found`);
  }
  await enqueueOrFail({
    deps,
    job: "deleteBox",
    data: { boxId },
    // A fresh job per request: deleting again after a teardown that gave up starts it over.
    opts: { jobId: `delete-${boxId}-${Date.now()}` },
    whatToDo: "try deleting again shortly",
  });
  return toBoxDto(updated, deps.config.agentsDomain);
}
