import { JOBS, type JobData, type JobKey, type Queues } from "@vps-claude/queue";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";

/**
 * Queues the job a request has just promised, or fails visibly: when Redis refuses, `markFailed`
 * first records the failure where the owner will see it (the box, the email), so nothing sits
 * `pending` forever, and the request is answered 503 with what to do.
 */
export async function enqueueOrFail<K extends JobKey>({
  deps,
  job,
  data,
  opts,
  whatToDo,
  markFailed,
}: {
  deps: Pick<ApiDeps, "queues" | "logger">;
  job: K;
  data: JobData<K>;
  opts?: Parameters<Queues["enqueue"]>[2];
  /** Follows "the job queue is unavailable; " in the answer. */
  whatToDo: string;
  markFailed?: () => Promise<unknown>;
}): Promise<void> {
  try {
    await deps.queues.enqueue(job, data, opts);
  } catch (err) {
    const context: Record<string, unknown> = { err, ...data };
    deps.logger.error(context, `could not queue ${JOBS[job].name}`);
    await markFailed?.();
    throw new ServiceError("SERVICE_UNAVAILABLE", `the job queue is unavailable; ${whatToDo}`);
  }
}
