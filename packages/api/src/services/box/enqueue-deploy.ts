import { box } from "@vps-claude/db";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";

/**
 * Hands a deploy attempt to the orchestrator queue. The job id is derived from the deploy id, so a
 * retried request cannot start the same attempt twice. If Redis refuses, the box goes to `error`
 * with the reason instead of sitting in `pending` forever.
 */
export async function enqueueDeploy({
  deps,
  boxId,
  deployId,
}: {
  deps: ApiDeps;
  boxId: string;
  deployId: string;
}) {
  try {
    await deps.queues.enqueue("deployOrchestrator", { boxId, deployId }, { jobId: `deploy-${deployId}` });
  } catch (err) {
    deps.logger.error({ err, boxId, deployId }, "could not queue deploy");
    await deps.db
      .update(box)
      .set({
        status: "error",
        errorMessage: "The deploy could not be queued (job queue unavailable). Try redeploying.",
      })
      .where(eq(box.id, boxId));
    throw new ServiceError(
      "SERVICE_UNAVAILABLE",
      "the job queue is unavailable; the box was saved, redeploy it shortly",
    );
  }
}
