import { box, type Database } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import { type JobContext, PermanentJobError } from "@vps-claude/queue";
import { type Job, WaitingChildrenError } from "bullmq";
import { eq } from "drizzle-orm";
import { failDeploy, markStepFinished, markStepRunning } from "./deploy-steps";
import {
  type CurrentBox,
  type DeployJobData,
  type DeployPipeline,
  type DeployQueue,
  deployStepLabel,
  fanOutRowName,
  type StepDeps,
  type StepOutcome,
} from "./pipeline";
import { runFanOut } from "./run-fan-out";

/**
 * The frame every deploy step runs in: it skips work for a box that was deleted or has moved on
 * to a newer deploy, keeps the step's row current (running → completed/failed with timing and a
 * log excerpt), and on the last failed attempt puts the box in `error` with the step's reason.
 */
export async function runDeployStep({
  db,
  logger,
  data,
  ctx,
  step,
  label,
  work,
}: {
  db: Database;
  logger: Logger;
  data: { boxId: string; deployId: string };
  /** The attempt facts from the worker (a PermanentJobError makes any attempt the last). */
  ctx: Pick<JobContext, "attempt" | "attempts" | "isFinalAttempt">;
  /** The step's row name. */
  step: string;
  /** How the box's error message names the step. */
  label: string;
  work: (current: CurrentBox) => Promise<StepOutcome | undefined>;
}): Promise<StepOutcome & { skippedBecause?: string }> {
  const { boxId, deployId } = data;
  const [current] = await db.select().from(box).where(eq(box.id, boxId)).limit(1);
  if (!current || current.status === "deleting") {
    return { status: "skipped", skippedBecause: "box deleted" };
  }
  if (current.deployId !== deployId) {
    await markStepFinished({
      db,
      deployId,
      step,
      status: "skipped",
      logExcerpt: "superseded by a newer deploy",
    });
    return { status: "skipped", skippedBecause: "superseded by a newer deploy" };
  }

  const { attempt, attempts } = ctx;
  await markStepRunning({ db, boxId, deployId, step, attempt });
  try {
    const outcome = (await work(current)) ?? {};
    await markStepFinished({
      db,
      deployId,
      step,
      status: outcome.status ?? "completed",
      logExcerpt: outcome.log,
    });
    return outcome;
  } catch (err) {
    if (err instanceof WaitingChildrenError) {
      // Not a failure: the step waits for the jobs it spawned and runs again when they are done.
      throw err;
    }
    const reason = err instanceof Error ? err.message : String(err);
    const final = ctx.isFinalAttempt || err instanceof PermanentJobError;
    logger.warn({ err, boxId, deployId, step, attempt, attempts, final }, "deploy step failed");
    if (final) {
      await markStepFinished({ db, deployId, step, status: "failed", errorMessage: reason });
      await failDeploy({ db, boxId, deployId, label, reason });
    } else {
      await markStepFinished({
        db,
        deployId,
        step,
        status: "pending",
        errorMessage: `attempt ${attempt} of ${attempts} failed: ${reason}; retrying`,
      });
    }
    throw err;
  }
}

/** Runs one job of a pipeline queue: its step (or fan-out child) inside the step frame. */
export async function runDeployJob({
  deps,
  runtime,
  pipeline,
  queue,
  data,
  job,
  ctx,
}: StepDeps & {
  pipeline: DeployPipeline;
  queue: DeployQueue;
  data: DeployJobData;
  job: Job;
  ctx: JobContext;
}) {
  const item = data.item ?? "";
  const step = queue.kind === "fanOut" ? fanOutRowName(queue.fanOut, item) : queue.step.key;
  return runDeployStep({
    db: deps.db,
    logger: ctx.logger,
    data,
    ctx,
    step,
    label: deployStepLabel(pipeline, step),
    work: (current) => {
      const { fanOut } = queue.step;
      const stepCtx = {
        deps,
        runtime,
        current,
        deployId: data.deployId,
        pipeline,
        runChildren: () => {
          if (!fanOut) {
            throw new Error(`deploy step '${queue.step.key}' has no fan-out`);
          }
          return runFanOut({
            queues: deps.queues,
            fanOut,
            items: fanOut.items(current),
            data,
            job,
            token: ctx.token,
          });
        },
      };
      return queue.kind === "fanOut" ? queue.fanOut.run(stepCtx, item) : queue.step.run(stepCtx);
    },
  });
}
