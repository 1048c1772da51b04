import type { Logger } from "@vps-claude/logger";
import { createWorker, JOBS } from "@vps-claude/queue";
import type { Redis } from "@vps-claude/redis";
import { DelayedError, type Worker } from "bullmq";
import type { ApiDeps } from "../deps";
import { followRun } from "../services/run/follow-run";

/** Runs one process follows at once: each is an open event stream and little else. */
const FOLLOWERS_PER_PROCESS = 200;
/**
 * A follow job whose worker died (SIGKILL, a lost host) stalls and is taken up by another worker;
 * that may happen many times in a long run's life without it being the run's fault.
 */
const MAX_STALLS = 1_000;
/** How soon a run whose follower stopped for a closing worker is taken up again (by another process). */
const HAND_OVER_DELAY_MS = 1_000;

export class FollowerStoppedError extends Error {
  override name = "FollowerStoppedError";
}

/**
 * The `run.follow` worker. A follower holds a stream for as long as its run lasts, which BullMQ's
 * close would wait for; `stop()` (called before the worker closes) aborts every follower instead,
 * and each hands its job back as delayed, not failed and without spending an attempt, so the next
 * worker resumes the run after its last stored event.
 */
export function startFollowRunWorker({
  deps,
  connection,
  prefix,
  logger,
}: {
  deps: ApiDeps;
  connection: Redis;
  prefix: string;
  logger: Logger;
}): { worker: Worker; stop(): void } {
  const closing = new AbortController();
  const worker = createWorker({
    job: JOBS.followRun,
    connection,
    prefix,
    logger,
    concurrency: FOLLOWERS_PER_PROCESS,
    workerOptions: { maxStalledCount: MAX_STALLS },
    handler: async (job, ctx) => {
      const { runId } = JOBS.followRun.schema.parse(job.data);
      try {
        return await followRun({
          deps,
          runId,
          signal: AbortSignal.any([ctx.signal, closing.signal]),
          logger: ctx.logger,
        });
      } catch (err) {
        if (closing.signal.aborted && ctx.token) {
          await job.moveToDelayed(Date.now() + HAND_OVER_DELAY_MS, ctx.token);
          throw new DelayedError(`the worker is closing; run ${runId} is handed over`);
        }
        throw err;
      }
    },
  });
  return {
    worker,
    stop: () => closing.abort(new FollowerStoppedError("the worker is closing")),
  };
}
