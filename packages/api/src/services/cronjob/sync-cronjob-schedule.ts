import { boxCronjob } from "@vps-claude/db";
import { JOBS } from "@vps-claude/queue";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";

export const schedulerIdFor = (cronjobId: string) => `cronjob-${cronjobId}`;

type Cronjob = typeof boxCronjob.$inferSelect;

/**
 * Makes the BullMQ job scheduler match the row: enabled → upsert (idempotent), otherwise removed.
 * A Redis failure here is logged, not thrown: the row is the truth and `reconcileCronjobSchedules`
 * repairs the schedulers when the worker (re)starts and periodically after.
 */
export async function syncCronjobSchedule({
  deps,
  cronjob,
}: {
  deps: Pick<ApiDeps, "queues" | "logger">;
  cronjob: Cronjob;
}) {
  const queue = deps.queues.get("triggerCronjob");
  const schedulerId = schedulerIdFor(cronjob.id);
  try {
    if (cronjob.enabled) {
      await queue.upsertJobScheduler(
        schedulerId,
        { pattern: cronjob.schedule, tz: cronjob.timezone },
        {
          name: JOBS.triggerCronjob.name,
          data: { cronjobId: cronjob.id },
          opts: {
            attempts: JOBS.triggerCronjob.attempts,
            removeOnComplete: { count: 100 },
            removeOnFail: { count: 500 },
          },
        },
      );
    } else {
      await queue.removeJobScheduler(schedulerId);
    }
    return true;
  } catch (err) {
    deps.logger.warn(
      { err, cronjobId: cronjob.id },
      "cronjob schedule not synced; the reconciler will retry",
    );
    return false;
  }
}

export async function removeCronjobSchedule({
  deps,
  cronjobId,
}: {
  deps: Pick<ApiDeps, "queues" | "logger">;
  cronjobId: string;
}) {
  try {
    await deps.queues.get("triggerCronjob").removeJobScheduler(schedulerIdFor(cronjobId));
  } catch (err) {
    deps.logger.warn({ err, cronjobId }, "cronjob schedule not removed; the reconciler will retry");
  }
}

/** Brings every scheduler in line with the table: the one place schedulers are reconciled from. */
export async function reconcileCronjobSchedules({
  deps,
}: {
  deps: Pick<ApiDeps, "queues" | "logger" | "db">;
}) {
  const queue = deps.queues.get("triggerCronjob");
  const enabled = await deps.db.select().from(boxCronjob).where(eq(boxCronjob.enabled, true));
  const wanted = new Set(enabled.map((cronjob) => schedulerIdFor(cronjob.id)));
  for (const cronjob of enabled) {
    await syncCronjobSchedule({ deps, cronjob });
  }
  let removed = 0;
  for (let start = 0; ; start += 500) {
    const schedulers = await queue.getJobSchedulers(start, start + 499);
    for (const scheduler of schedulers) {
      if (!wanted.has(scheduler.key)) {
        await queue.removeJobScheduler(scheduler.key);
        removed++;
      }
    }
    if (schedulers.length < 500) {
      break;
    }
  }
  return { scheduled: enabled.length, removed };
}
