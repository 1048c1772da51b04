import { box, type Database } from "@vps-claude/db";
import { DEPLOY_STEP_JOBS, type DeployStepKey, QUEUES, type Queues } from "@vps-claude/queue";
import type { FlowJob } from "bullmq";
import { and, eq, inArray } from "drizzle-orm";
import { planDeploySteps } from "./deploy-steps";

/** Job ids are derived from the deploy id, so re-adding the flow after a crash adds nothing twice. */
export const stepJobId = (deployId: string, step: string) =>
  `${deployId}-${step.replace(/[^a-zA-Z0-9_-]/g, "_")}`;

function stepJob(
  key: DeployStepKey,
  data: { boxId: string; deployId: string },
  children?: FlowJob[],
): FlowJob {
  const def = DEPLOY_STEP_JOBS[key];
  return {
    name: def.name,
    queueName: QUEUES[def.queue],
    data,
    opts: {
      jobId: stepJobId(data.deployId, key),
      attempts: def.attempts,
      backoff: def.backoff,
      // A step that has failed for good fails the steps after it instead of leaving them waiting forever.
      failParentOnFailure: true,
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
    children,
  };
}

/**
 * The pipeline as a BullMQ flow. BullMQ runs children before parents, so the chain is nested from
 * the last step down: createSprite → setupStep → healthCheck → skillsGate (which adds the
 * installSkill jobs as its own children at run time, in parallel) → enableAccess → finalize.
 */
export function buildDeployFlow(data: { boxId: string; deployId: string }): FlowJob {
  const chain: DeployStepKey[] = [
    "createSprite",
    "setupStep",
    "healthCheck",
    "skillsGate",
    "enableAccess",
    "finalize",
  ];
  let node: FlowJob | undefined;
  for (const key of chain) {
    node = stepJob(key, data, node ? [node] : undefined);
  }
  if (!node) {
    throw new Error("empty deploy chain");
  }
  return node;
}

/**
 * The orchestrator: turns a queued deploy into a plan (step rows) and a flow. Secrets are not
 * gathered here: job data lives in Redis, so the steps that need credentials and env vars read
 * them from the database themselves.
 */
export async function orchestrateDeploy({
  db,
  queues,
  boxId,
  deployId,
}: {
  db: Database;
  queues: Queues;
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
  await planDeploySteps({ db, boxId, deployId, skills: current.skills });
  await queues.flow().add(buildDeployFlow({ boxId, deployId }));
  return { started: true };
}
