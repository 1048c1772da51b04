import { box, type Database } from "@vps-claude/db";
import type { Queues } from "@vps-claude/queue";
import { and, eq, inArray } from "drizzle-orm";
import { planDeploySteps } from "./deploy-steps";
import { buildDeployFlow, type DeployPipeline, deployStepRows } from "./pipeline";

/**
 * The orchestrator: turns a queued deploy into a plan (step rows) and a flow, both from the
 * pipeline's table. Secrets are not gathered here: job data lives in Redis, so the steps that need
 * credentials and env vars read them from the database themselves.
 */
export async function orchestrateDeploy({
  db,
  queues,
  pipeline,
  boxId,
  deployId,
}: {
  db: Database;
  queues: Queues;
  pipeline: DeployPipeline;
  boxId: string;
  deployId: string;
}): Promise<{ started: boolean; reason?: string }> {
  const [current] = await db
    .update(box)
    .set({ status: "deploying", errorMessage: null })
    .where(and(eq(box.id, boxId), eq(box.deployId, deployId), inArray(box.status, ["pending", "deploying"])))
    .returning();
  if (!current) {
    return { started: false, reason: "box deleted, superseded or not pending" };
  }
  await planDeploySteps({ db, boxId, deployId, steps: deployStepRows(pipeline, current) });
  await queues.flow().add(buildDeployFlow(pipeline, { boxId, deployId }));
  return { started: true };
}
