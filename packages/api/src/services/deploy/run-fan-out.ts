import type { Queues } from "@vps-claude/queue";
import { type Job, WaitingChildrenError } from "bullmq";
import {
  type DeployJobData,
  deployJobName,
  type FanOut,
  fanOutJobData,
  fanOutRowName,
  stepJobId,
} from "./pipeline";

/**
 * A fan-out step's run: adds one child job per item under the step's own job, then parks the job
 * until all are done. BullMQ runs the step again then, and this resolves with the items. Fixed job
 * ids make a retry (or that second run) add nothing twice.
 */
export async function runFanOut({
  queues,
  fanOut,
  items,
  data,
  job,
  token,
}: {
  queues: Queues;
  fanOut: FanOut;
  items: string[];
  data: DeployJobData;
  job: Job;
  token: string | undefined;
}): Promise<string[]> {
  if (items.length === 0) {
    return items;
  }
  const def = { ...fanOut.job, name: deployJobName(fanOut.key), schema: fanOutJobData };
  for (const item of items) {
    await queues.add(
      def,
      { boxId: data.boxId, deployId: data.deployId, item },
      {
        jobId: stepJobId(data.deployId, fanOutRowName(fanOut, item)),
        parent: { id: String(job.id), queue: job.queueQualifiedName },
        failParentOnFailure: true,
      },
    );
  }
  if (await job.moveToWaitingChildren(token ?? "")) {
    throw new WaitingChildrenError();
  }
  return items;
}
