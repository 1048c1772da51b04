import { boxCronjob, type Database } from "@vps-claude/db";
import { JOBS } from "@vps-claude/queue";
import { newId } from "@vps-claude/shared";
import { type Platform, seedUserWithBox, startPlatform, waitFor } from "@vps-claude/testing/platform";
import type { Queue } from "bullmq";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiDeps } from "../../deps";
import { reconcileCronjobSchedules, schedulerIdFor } from "./sync-cronjob-schedule";

/** More than one page of BullMQ's scheduler list, so the paged read is exercised. */
const CRONJOBS = 1_100;

let platform: Platform;
let deps: ApiDeps;
let db: Database;
let queue: Queue;
let boxId: string;

beforeAll(async () => {
  platform = await startPlatform({ label: "cronsync" });
  deps = platform.deps;
  db = deps.db;
  queue = deps.queues.get("triggerCronjob");
  boxId = (await seedUserWithBox(db)).box.id;
  const rows = Array.from({ length: CRONJOBS }, (_, index) => ({
    id: newId("cronjob"),
    boxId,
    name: `job ${index}`,
    schedule: `${index % 60} * * * *`,
    prompt: "Summarise",
  }));
  await db.insert(boxCronjob).values(rows);
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

const reconcile = () => reconcileCronjobSchedules({ deps });

async function someCronjob(offset: number) {
  const [row] = await db.select().from(boxCronjob).orderBy(boxCronjob.id).offset(offset).limit(1);
  if (!row) {
    throw new Error(`no cronjob at offset ${offset}`);
  }
  return row;
}

describe("reconcileCronjobSchedules", () => {
  it("creates what is missing, then a pass over an unchanged table writes nothing", async () => {
    await reconcile();
    expect(await queue.getJobSchedulersCount()).toBe(await enabledCount());

    expect(await reconcile()).toEqual({ scheduled: await enabledCount(), upserted: 0, removed: 0 });
  });

  it("mends a missing scheduler, a changed one, a disabled job's and an orphan, and nothing else", async () => {
    await reconcile();
    const missing = await someCronjob(1);
    await queue.removeJobScheduler(schedulerIdFor(missing.id));

    // A row changed while Redis was away: its scheduler still fires on the old rule.
    const changed = await someCronjob(2);
    await db
      .update(boxCronjob)
      .set({ schedule: "*/5 * * * *", timezone: "Europe/Paris" })
      .where(eq(boxCronjob.id, changed.id));

    const staleTemplate = await someCronjob(3);
    await queue.upsertJobScheduler(
      schedulerIdFor(staleTemplate.id),
      { pattern: staleTemplate.schedule, tz: staleTemplate.timezone },
      { name: JOBS.triggerCronjob.name, data: { cronjobId: staleTemplate.id }, opts: { attempts: 5 } },
    );

    const disabled = await someCronjob(4);
    await db.update(boxCronjob).set({ enabled: false }).where(eq(boxCronjob.id, disabled.id));

    const orphanId = schedulerIdFor("cron_deleted_while_redis_was_away");
    await queue.upsertJobScheduler(orphanId, { pattern: "0 9 * * *" }, { name: JOBS.triggerCronjob.name });

    expect(await reconcile()).toEqual({ scheduled: await enabledCount(), upserted: 3, removed: 2 });

    expect(await queue.getJobScheduler(schedulerIdFor(missing.id))).toMatchObject({
      pattern: missing.schedule,
      tz: "UTC",
      template: { data: { cronjobId: missing.id } },
    });
    expect(await queue.getJobScheduler(schedulerIdFor(changed.id))).toMatchObject({
      pattern: "*/5 * * * *",
      tz: "Europe/Paris",
    });
    expect((await queue.getJobScheduler(schedulerIdFor(staleTemplate.id)))?.template?.opts).toMatchObject({
      attempts: JOBS.triggerCronjob.attempts,
    });
    expect(await queue.getJobScheduler(schedulerIdFor(disabled.id))).toBeUndefined();
    expect(await queue.getJobScheduler(orphanId)).toBeUndefined();
    expect(await queue.getJobSchedulersCount()).toBe(await enabledCount());

    expect(await reconcile(), "mended: the next pass has nothing to do").toMatchObject({
      upserted: 0,
      removed: 0,
    });
  });

  it("leaves alone a tick that is due and not yet taken, which an upsert would replace by the next", async () => {
    const [everySecond] = await db
      .insert(boxCronjob)
      // Six fields (seconds first): BullMQ accepts them, so the tick is due within a second or two.
      .values({ id: newId("cronjob"), boxId, name: "every second", schedule: "* * * * * *", prompt: "Hi" })
      .returning();
    if (!everySecond) {
      throw new Error("inserting the cronjob returned no row");
    }
    await reconcile();
    const schedulerId = schedulerIdFor(everySecond.id);
    // No worker runs here, so the tick stays due, as it does behind a busy minute's herd.
    const due = await waitFor(
      () => queue.getJobScheduler(schedulerId),
      (scheduler) => scheduler?.next !== undefined && scheduler.next < Date.now(),
      { what: "the every-second tick to be due", interval: 100 },
    );
    const dueJob = `repeat:${schedulerId}:${due?.next}`;

    const pass = await reconcile();
    expect((await queue.getJobs(["delayed", "wait"])).map((job) => job.id)).toContain(dueJob);
    expect(pass).toMatchObject({ upserted: 0, removed: 0 });
  });
});

async function enabledCount() {
  return db.$count(boxCronjob, eq(boxCronjob.enabled, true));
}
