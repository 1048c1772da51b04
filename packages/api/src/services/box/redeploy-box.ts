import { box, boxDeployStep } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { and, eq, gte, inArray, lt, notExists, notInArray, or } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { type BoxDto, toBoxDto } from "./box-dto";
import { enqueueDeploy } from "./enqueue-deploy";
import { getOwnedBox } from "./get-owned-box";

/**
 * Starts a new deploy attempt unless one is already pending or running: a second click while a
 * deploy runs collapses into the running one rather than racing it. A deploy that stopped moving
 * (no change to the box or any of its steps for `deployStuckAfterMs`: its jobs were lost, say) is
 * not running: a redeploy starts over, and the stale attempt's jobs skip themselves.
 */
export async function redeployBox({
  deps,
  userId,
  boxId,
}: {
  deps: ApiDeps;
  userId: string;
  boxId: string;
}): Promise<BoxDto> {
  const current = await getOwnedBox({ db: deps.db, userId, boxId });
  if (current.status === "deleting") {
    throw new ServiceError("CONFLICT", `box '${boxId}' is being deleted and cannot be redeployed`);
  }
  const deployId = newId("deploy");
  const stuckBefore = new Date(Date.now() - deps.config.deployStuckAfterMs);
  const stuck = and(
    inArray(box.status, ["pending", "deploying"]),
    lt(box.updatedAt, stuckBefore),
    notExists(
      deps.db
        .select({ id: boxDeployStep.id })
        .from(boxDeployStep)
        .where(and(eq(boxDeployStep.deployId, box.deployId), gte(boxDeployStep.updatedAt, stuckBefore))),
    ),
  );
  const [updated] = await deps.db
    .update(box)
    .set({ status: "pending", errorMessage: null, deployId })
    .where(and(eq(box.id, boxId), or(notInArray(box.status, ["pending", "deploying", "deleting"]), stuck)))
    .returning();
  if (!updated) {
    const latest = await getOwnedBox({ db: deps.db, userId, boxId });
    if (latest.status === "deleting") {
      throw new ServiceError("CONFLICT", `box '${boxId}' is being deleted and cannot be redeployed`);
    }
    return toBoxDto(latest, deps.config.agentsDomain);
  }
  await enqueueDeploy({ deps, boxId, deployId });
  return toBoxDto(updated, deps.config.agentsDomain);
}
