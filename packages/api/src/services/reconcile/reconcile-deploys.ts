import { box, boxDeployStep } from "@vps-claude/db";
import { and, eq, gte, inArray, lt, notExists } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { describeDuration } from "./describe-duration";

/**
 * Puts every box whose deploy stopped moving in `error`, with the reason, instead of leaving it
 * `pending`/`deploying` forever. "Stopped moving" is the rule a redeploy uses to start over
 * (redeployBox): no change to the box or to any step of its deploy, here for `deployFailAfterMs`.
 * The deploy's unfinished steps are failed with the same reason, so the box page shows no step
 * still spinning. Returns the boxes put in error.
 */
export async function failStuckDeploys({
  deps,
  now,
}: {
  deps: Pick<ApiDeps, "db" | "config">;
  now: Date;
}): Promise<string[]> {
  const stuckAfterMs = deps.config.reconcile.deployFailAfterMs;
  const stuckBefore = new Date(now.getTime() - stuckAfterMs);
  const reason = `The deploy made no progress for ${describeDuration(stuckAfterMs)} (its jobs were lost or its worker stopped). Redeploy the box to start over.`;
  const failed = await deps.db
    .update(box)
    .set({ status: "error", errorMessage: reason })
    .where(
      and(
        inArray(box.status, ["pending", "deploying"]),
        lt(box.updatedAt, stuckBefore),
        notExists(
          deps.db
            .select({ id: boxDeployStep.id })
            .from(boxDeployStep)
            .where(and(eq(boxDeployStep.deployId, box.deployId), gte(boxDeployStep.updatedAt, stuckBefore))),
        ),
      ),
    )
    .returning({ id: box.id, deployId: box.deployId });
  const deployIds = failed.flatMap((row) => (row.deployId ? [row.deployId] : []));
  if (deployIds.length > 0) {
    await deps.db
      .update(boxDeployStep)
      .set({ status: "failed", completedAt: now, errorMessage: reason })
      .where(
        and(
          inArray(boxDeployStep.deployId, deployIds),
          inArray(boxDeployStep.status, ["pending", "running"]),
        ),
      );
  }
  return failed.map((row) => row.id);
}
