import { isDeepStrictEqual } from "node:util";
import { boxCronjob } from "@vps-claude/db";
import { JOBS } from "@vps-claude/queue";
import type { JobSchedulerJson, Queue } from "bullmq";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";

export const schedulerIdFor = (cronjobId: string) => `cronjob-${cronjobId}`;

type Cronjob = typeof boxCronjob.$inferSelect;

/** Schedulers read from BullMQ per call while reconciling. */
const SCHEDULER_PAGE = 1_000;
/** Scheduler writes in flight at once while reconciling (each is one Redis script). */
const WRITES_AT_ONCE = 20;

/** The BullMQ job scheduler a cronjob fires through: its repeat rule and the job template of each tick. */
function schedulerSpecFor(cronjob: Pick<Cronjob, "id" | "schedule" | "timezone">) {
  return {
    repeat: { pattern: cronjob.schedule, tz: cronjob.timezone },
    template: {
      name: JOBS.triggerCronjob.name,
      data: { cronjobId: cronjob.id },
      opts: {
        attempts: JOBS.triggerCronjob.attempts,
        removeOnComplete: { count: 100 },
        removeOnFail: { count: 500 },
      },
    },
  };
}

/**
 * Whether BullMQ's scheduler already fires as the cronjob says. Only the options we set are compared:
 * BullMQ may store more of its own, which must not make every scheduler look changed.
 */
function schedulerMatches(scheduler: JobSchedulerJson, cronjob: Cronjob): boolean {
  const { repeat, template } = schedulerSpecFor(cronjob);
  const stored = (scheduler.template?.opts ?? {}) as Record<string, unknown>;
  return (
    scheduler.pattern === repeat.pattern &&
    scheduler.tz === repeat.tz &&
    scheduler.name === template.name &&
    isDeepStrictEqual(scheduler.template?.data, template.data) &&
    Object.entries(template.opts).every(([name, value]) => isDeepStrictEqual(stored[name], value))
  );
}

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
      const { repeat, template } = schedulerSpecFor(cronjob);
      await queue.upsertJobScheduler(schedulerId, repeat, template);
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

/**
 * Every scheduler BullMQ holds, by id. Read newest `next` first (BullMQ's default order): a scheduler
 * that fires meanwhile moves to the front, already read, so the pages still to come shift by one
 * towards a repeat, never a gap. One that moved is missed, and re-checked by the caller.
 */
async function readSchedulers(queue: Queue): Promise<Map<string, JobSchedulerJson>> {
  const schedulers = new Map<string, JobSchedulerJson>();
  const total = await queue.getJobSchedulersCount();
  for (let start = 0; start < total; start += SCHEDULER_PAGE) {
    for (const scheduler of await queue.getJobSchedulers(start, start + SCHEDULER_PAGE - 1)) {
      schedulers.set(scheduler.key, scheduler);
    }
  }
  return schedulers;
}

async function inBatches<T>(items: T[], each: (item: T) => Promise<unknown>): Promise<void> {
  for (let from = 0; from < items.length; from += WRITES_AT_ONCE) {
    await Promise.all(items.slice(from, from + WRITES_AT_ONCE).map(each));
  }
}

/**
 * Brings every scheduler in line with the table, the one place schedulers are reconciled from,
 * writing only what differs: a pass over an unchanged table reads and writes nothing else. An upsert
 * is not free to repeat: it replaces a tick still waiting for a worker with the next one, so
 * re-upserting every scheduler each pass lost ticks that were due during it.
 *
 * BullMQ is read before the table: a cronjob created meanwhile has its row committed before its
 * scheduler, so a scheduler seen without its row is really an orphan.
 */
export async function reconcileCronjobSchedules({
  deps,
}: {
  deps: Pick<ApiDeps, "queues" | "logger" | "db">;
}): Promise<{ scheduled: number; upserted: number; removed: number }> {
  const queue = deps.queues.get("triggerCronjob");
  const existing = await readSchedulers(queue);
  const enabled = await deps.db.select().from(boxCronjob).where(eq(boxCronjob.enabled, true));
  const wanted = new Set(enabled.map((cronjob) => schedulerIdFor(cronjob.id)));

  const unmatched = enabled.filter((cronjob) => {
    const scheduler = existing.get(schedulerIdFor(cronjob.id));
    return !scheduler || !schedulerMatches(scheduler, cronjob);
  });
  let upserted = 0;
  await inBatches(unmatched, async (cronjob) => {
    // Looked up alone before writing, as the paged read may have missed one that fired during it.
    const scheduler = await queue.getJobScheduler(schedulerIdFor(cronjob.id));
    if (scheduler && schedulerMatches(scheduler, cronjob)) {
      return;
    }
    if (await syncCronjobSchedule({ deps, cronjob })) {
      upserted++;
    }
  });

  const orphans = [...existing.keys()].filter((key) => !wanted.has(key));
  await inBatches(orphans, (key) => queue.removeJobScheduler(key));
  return { scheduled: enabled.length, upserted, removed: orphans.length };
}
