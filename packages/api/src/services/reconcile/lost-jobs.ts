import type { Job, JobState, Queue } from "bullmq";

/** States in which a job will still be worked (a dead worker's `active` job stalls back to waiting). */
const LIVE_STATES: ReadonlySet<JobState | "unknown"> = new Set([
  "active",
  "waiting",
  "delayed",
  "prioritized",
  "waiting-children",
]);

export const isLiveJobState = (state: JobState | "unknown") => LIVE_STATES.has(state);

/** The job with this id, if it will still be worked; else the finished job that holds the id (or none). */
export async function findJob(
  queue: Queue,
  jobId: string,
): Promise<{ live: true } | { live: false; finished?: Job }> {
  const job = await queue.getJob(jobId);
  if (!job) {
    return { live: false };
  }
  const state = await job.getState();
  return isLiveJobState(state) ? { live: true } : { live: false, finished: job };
}

/**
 * Adds a lost job again under its own id. BullMQ takes an add whose id a finished (kept) job still
 * holds for a duplicate and does nothing, so that one is removed first. Racing another reconciler is
 * harmless: both adds carry the same id and BullMQ keeps one.
 */
export async function readdJob({
  queue,
  jobId,
  add,
}: {
  queue: Queue;
  jobId: string;
  add: () => Promise<unknown>;
}): Promise<"alive" | "added"> {
  const found = await findJob(queue, jobId);
  if (found.live) {
    return "alive";
  }
  if (found.finished) {
    // A job another worker holds cannot be removed (BullMQ refuses); a finished one can.
    await found.finished.remove().catch(() => {});
  }
  await add();
  return "added";
}

/**
 * The values of `key` in the data of every live job of a queue: for jobs added under ids other than
 * the one the reconciler would give them (an owner's retry of a delivery gets its own id).
 */
export async function liveJobDataValues(queue: Queue, key: string, limit = 20_000): Promise<Set<string>> {
  const values = new Set<string>();
  const pageSize = 1_000;
  for (let start = 0; start < limit; start += pageSize) {
    const jobs = await queue.getJobs(
      ["active", "waiting", "delayed", "prioritized", "waiting-children"],
      start,
      start + pageSize - 1,
      true,
    );
    for (const job of jobs) {
      const value = (job?.data as Record<string, unknown> | undefined)?.[key];
      if (typeof value === "string") {
        values.add(value);
      }
    }
    // Each state's list is paged on its own, so a page may hold up to one page per state.
    if (jobs.length === 0) {
      break;
    }
  }
  return values;
}
