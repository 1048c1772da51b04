import { box, type Database } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import { type JobContext, PermanentJobError } from "@vps-claude/queue";
import { WaitingChildrenError } from "bullmq";
import { eq } from "drizzle-orm";
import { failDeploy, markStepFinished, markStepRunning } from "./deploy-steps";

export interface StepJob {
  data: { boxId: string; deployId: string };
}

export interface StepOutcome {
  /** Shown on the box page as the step's log excerpt. */
  log?: string;
  status?: "completed" | "skipped";
}

export type CurrentBox = typeof box.$inferSelect;

/**
 * The frame every deploy step runs in: it skips work for a box that was deleted or has moved on
 * to a newer deploy, keeps the step's row current (running → completed/failed with timing and a
 * log excerpt), and on the last failed attempt puts the box in `error` with the step's reason.
 */
export async function runDeployStep({
  db,
  logger,
  job,
  ctx,
  step,
  work,
}: {
  db: Database;
  logger: Logger;
  job: StepJob;
  /** The attempt facts from the worker (a PermanentJobError makes any attempt the last). */
  ctx: Pick<JobContext, "attempt" | "attempts" | "isFinalAttempt">;
  step: string;
  work: (current: CurrentBox) => Promise<StepOutcome | undefined>;
}): Promise<StepOutcome & { skippedBecause?: string }> {
  const { boxId, deployId } = job.data;
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
      await failDeploy({ db, boxId, deployId, step, reason });
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
