import { box, type Database } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import { WaitingChildrenError } from "bullmq";
import { eq } from "drizzle-orm";
import { failDeploy, markStepFinished, markStepRunning } from "./deploy-steps";

export interface StepJob {
  data: { boxId: string; deployId: string };
  attemptsMade: number;
  opts: { attempts?: number };
}

export interface StepOutcome {
  /** Shown on the box page as the step's log excerpt. */
  log?: string;
  status?: "completed" | "skipped";
}

export type CurrentBox = typeof box.$inferSelect;

/**
 * Thrown by a step that must not be retried (bad configuration, a box that can never deploy):
 * the deploy fails at once with the message instead of burning its retries.
 */
export class PermanentStepError extends Error {
  override name = "PermanentStepError";
}

/**
 * The frame every deploy step runs in: it skips work for a box that was deleted or has moved on
 * to a newer deploy, keeps the step's row current (running → completed/failed with timing and a
 * log excerpt), and on the last failed attempt puts the box in `error` with the step's reason.
 */
export async function runDeployStep({
  db,
  logger,
  job,
  step,
  work,
}: {
  db: Database;
  logger: Logger;
  job: StepJob;
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

  const attempt = job.attemptsMade + 1;
  const attempts = job.opts.attempts ?? 1;
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
    const final = attempt >= attempts || err instanceof PermanentStepError;
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
