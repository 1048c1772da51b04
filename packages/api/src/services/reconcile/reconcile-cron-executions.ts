import { TERMINAL_RUN_STATUSES } from "@vps-claude/contract/box-agent";
import { boxCronjobExecution, boxRun } from "@vps-claude/db";
import { and, desc, eq, inArray, isNull, lt, notExists, notInArray, or } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { ApiDeps } from "../../deps";
import { finishCronExecution } from "../cronjob/finish-cron-execution";
import { describeDuration } from "./describe-duration";

const UNFINISHED = ["pending", "waking_box", "running"] as const;
type UnfinishedStatus = (typeof UNFINISHED)[number];

/** Another run of the same execution, for "none of its runs still goes". */
const otherRun = alias(boxRun, "other_run");

/** Rows looked at per tick and per kind; the rest wait for the next tick. */
const BATCH = 500;

const runOfExecution = or(
  eq(boxRun.id, boxCronjobExecution.runId),
  eq(boxRun.cronjobExecutionId, boxCronjobExecution.id),
);

/** Why a tick that never got a run is failed, by where it stopped. */
function neverRanReason(status: UnfinishedStatus, stuckAfterMs: number): string {
  const after = describeDuration(stuckAfterMs);
  switch (status) {
    case "pending":
      return `the tick never reached the box: nothing happened for ${after} after it was recorded (its worker stopped)`;
    case "waking_box":
      return `the tick never reached the box: it was still waking the box after ${after} (its worker stopped)`;
    case "running":
      return `the tick never reached the box: no run was recorded for it within ${after} (its worker stopped mid-tick)`;
  }
}

/**
 * Cron executions left unfinished: one with no run `stuckAfterMs` after its tick was recorded is
 * `failed` (the tick never reached the box); one whose run has ended is finished from that run, as
 * completeRun would have. One whose run still goes is left to the run's own reconciliation.
 */
export async function reconcileCronExecutions({
  deps,
  now,
}: {
  deps: Pick<ApiDeps, "db" | "config">;
  now: Date;
}): Promise<{ failed: string[]; finished: string[] }> {
  return {
    failed: await failTicksThatNeverRan({ deps, now }),
    finished: await finishTicksWhoseRunEnded({ deps }),
  };
}

async function failTicksThatNeverRan({
  deps,
  now,
}: {
  deps: Pick<ApiDeps, "db" | "config">;
  now: Date;
}): Promise<string[]> {
  const stuckAfterMs = deps.config.reconcile.cronTickStuckAfterMs;
  const stale = await deps.db
    .select({
      id: boxCronjobExecution.id,
      status: boxCronjobExecution.status,
      startedAt: boxCronjobExecution.startedAt,
    })
    .from(boxCronjobExecution)
    .where(
      and(
        inArray(boxCronjobExecution.status, [...UNFINISHED]),
        lt(boxCronjobExecution.createdAt, new Date(now.getTime() - stuckAfterMs)),
        isNull(boxCronjobExecution.runId),
        notExists(deps.db.select({ id: boxRun.id }).from(boxRun).where(runOfExecution)),
      ),
    )
    .orderBy(boxCronjobExecution.createdAt)
    .limit(BATCH);
  const failed: string[] = [];
  for (const execution of stale) {
    const status = execution.status as UnfinishedStatus;
    const [updated] = await deps.db
      .update(boxCronjobExecution)
      .set({
        status: "failed",
        completedAt: now,
        durationMs: execution.startedAt ? Math.max(0, now.getTime() - execution.startedAt.getTime()) : 0,
        errorMessage: neverRanReason(status, stuckAfterMs),
      })
      // Only as it was read: a tick that moved on meanwhile (or got its run) is not failed under it.
      .where(
        and(
          eq(boxCronjobExecution.id, execution.id),
          eq(boxCronjobExecution.status, status),
          isNull(boxCronjobExecution.runId),
        ),
      )
      .returning({ id: boxCronjobExecution.id });
    if (updated) {
      failed.push(updated.id);
    }
  }
  return failed;
}

async function finishTicksWhoseRunEnded({ deps }: { deps: Pick<ApiDeps, "db"> }): Promise<string[]> {
  const candidates = await deps.db
    .selectDistinctOn([boxCronjobExecution.id], { executionId: boxCronjobExecution.id, run: boxRun })
    .from(boxCronjobExecution)
    .innerJoin(boxRun, runOfExecution)
    .where(
      and(
        inArray(boxCronjobExecution.status, [...UNFINISHED]),
        inArray(boxRun.status, [...TERMINAL_RUN_STATUSES]),
        notExists(
          deps.db
            .select({ id: otherRun.id })
            .from(otherRun)
            .where(
              and(
                or(
                  eq(otherRun.id, boxCronjobExecution.runId),
                  eq(otherRun.cronjobExecutionId, boxCronjobExecution.id),
                ),
                notInArray(otherRun.status, [...TERMINAL_RUN_STATUSES]),
              ),
            ),
        ),
      ),
    )
    // The latest run decides (an owner's retry of the tick's run is a later one).
    .orderBy(boxCronjobExecution.id, desc(boxRun.createdAt), desc(boxRun.id))
    .limit(BATCH);
  const finished: string[] = [];
  for (const { executionId, run } of candidates) {
    await deps.db.transaction(async (tx) => {
      // Not if it was finished meanwhile (completeRun, or a reconciler in another process).
      const [still] = await tx
        .select({ id: boxCronjobExecution.id })
        .from(boxCronjobExecution)
        .where(
          and(eq(boxCronjobExecution.id, executionId), inArray(boxCronjobExecution.status, [...UNFINISHED])),
        )
        .for("update");
      if (!still) {
        return;
      }
      // The run may be linked from the execution only (runId), so it is named as the tick's run.
      await finishCronExecution({ db: tx, run: { ...run, cronjobExecutionId: executionId } });
      finished.push(executionId);
    });
  }
  return finished;
}
