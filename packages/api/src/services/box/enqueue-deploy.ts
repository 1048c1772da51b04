import { box } from "@vps-claude/db";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { enqueueOrFail } from "../queue/enqueue-or-fail";

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
  await enqueueOrFail({
    deps,
    job: "deployOrchestrator",
    data: { boxId, deployId },
    opts: { jobId: `deploy-${deployId}` },
    whatToDo: "the box was saved, redeploy it shortly",
    markFailed: () =>
      deps.db
        .update(box)
        .set({
          status: "error",
          errorMessage: "The deploy could not be queued (job queue unavailable). Try redeploying.",
        })
        .where(eq(box.id, boxId)),
  });
}
