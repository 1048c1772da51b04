import { box, boxCronjob, boxCronjobExecution, boxRun, type Database } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { type Platform, seedUserWithBox, startPlatform } from "@vps-claude/testing/platform";
import { desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiDeps } from "../../deps";
import { triggerCronjob } from "./trigger-cronjob";

/**
 * The decisions a tick makes before it reaches a box, on real Postgres, Redis and queues: boxes here
 * have no sandbox and no follower runs, so a tick that gets past them is seen handing its run over
 * (`queued`, the execution `running`): it never waits on the box. The runs themselves are tested end
 * to end in apps/server/test/cron.e2e.test.ts.
 */
const MINUTE = 60_000;
const STUCK_AFTER_MS = 10 * MINUTE;

let platform: Platform;
let deps: ApiDeps;
let db: Database;

beforeAll(async () => {
  platform = await startPlatform({ label: "crontick" });
  deps = {
    ...platform.deps,
    config: {
      ...platform.deps.config,
      reconcile: { ...platform.deps.config.reconcile, cronTickStuckAfterMs: STUCK_AFTER_MS },
    },
  };
  db = deps.db;
});

afterAll(async () => {
  await platform?.close();
});

async function seedCronjob(
  values: Partial<typeof boxCronjob.$inferInsert> = {},
  boxStatus: (typeof box.$inferSelect)["status"] = "running",
) {
  const seeded = await seedUserWithBox(db);
  await db.update(box).set({ status: boxStatus }).where(eq(box.id, seeded.box.id));
  const [cronjob] = await db
    .insert(boxCronjob)
    .values({
      id: newId("cronjob"),
      boxId: seeded.box.id,
      name: "digest",
      schedule: "* * * * *",
      prompt: "Summarise",
      ...values,
    })
    .returning();
  if (!cronjob) {
    throw new Error("inserting the cronjob returned no row");
  }
  return { ...seeded, cronjob };
}

async function insertRun(
  seeded: Awaited<ReturnType<typeof seedCronjob>>,
  status: (typeof boxRun.$inferSelect)["status"],
) {
  const id = newId("run");
  await db.insert(boxRun).values({
    id,
    boxId: seeded.box.id,
    userId: seeded.userId,
    trigger: "cron",
    contextType: "cron",
    contextId: seeded.cronjob.id,
    status,
    prompt: "Summarise",
    dispatch: {},
    maxDurationMs: 30 * MINUTE,
    cronjobId: seeded.cronjob.id,
  });
  return id;
}

const tick = (cronjobId: string, scheduledFor = new Date()) =>
  triggerCronjob({ deps, cronjobId, scheduledFor });

async function latestExecution(cronjobId: string) {
  const [row] = await db
    .select()
    .from(boxCronjobExecution)
    .where(eq(boxCronjobExecution.cronjobId, cronjobId))
    .orderBy(desc(boxCronjobExecution.createdAt))
    .limit(1);
  return row;
}

describe("triggerCronjob before the box", () => {
  it("records a disabled job's tick skipped, not failed, and leaves its last run alone", async () => {
    const seeded = await seedCronjob({ enabled: false });
    expect(await tick(seeded.cronjob.id)).toMatchObject({ status: "skipped" });
    expect(await latestExecution(seeded.cronjob.id)).toMatchObject({
      status: "skipped",
      errorMessage: "cronjob is disabled",
      runId: null,
      completedAt: expect.any(Date),
    });
    const [cronjob] = await db.select().from(boxCronjob).where(eq(boxCronjob.id, seeded.cronjob.id));
    expect(cronjob?.lastRunAt).toBeNull();
  });

  it("fails a tick whose box is not running, saying so", async () => {
    const seeded = await seedCronjob({}, "deploying");
    expect(await tick(seeded.cronjob.id)).toMatchObject({ status: "failed" });
    expect((await latestExecution(seeded.cronjob.id))?.errorMessage).toBe("box is deploying, not running");
  });

  it("runs a re-delivered tick once", async () => {
    const seeded = await seedCronjob({}, "deploying");
    const at = new Date("2026-01-01T09:00:00Z");
    expect((await tick(seeded.cronjob.id, at)).status).toBe("failed");
    expect(await tick(seeded.cronjob.id, at)).toEqual({ status: "duplicate" });
    expect(await tick("cron_gone")).toEqual({ status: "gone" });
  });

  it.each(["queued", "running"] as const)(
    "with overlap skip, skips a tick while the previous run is %s, naming it",
    async (status) => {
      const seeded = await seedCronjob({ overlap: "skip" });
      const runId = await insertRun(seeded, status);
      expect(await tick(seeded.cronjob.id)).toMatchObject({ status: "skipped" });
      expect(await latestExecution(seeded.cronjob.id)).toMatchObject({
        status: "skipped",
        errorMessage: `previous run ${runId} still ${status}`,
        runId: null,
      });
    },
  );

  it("with overlap skip, skips a tick while an earlier one is still starting its run, unless that one is long dead", async () => {
    const seeded = await seedCronjob({ overlap: "skip" });
    const startingId = newId("cronjobExecution");
    await db.insert(boxCronjobExecution).values({
      id: startingId,
      cronjobId: seeded.cronjob.id,
      boxId: seeded.box.id,
      scheduledFor: new Date(Date.now() - MINUTE),
      status: "waking_box",
      startedAt: new Date(),
    });
    await tick(seeded.cronjob.id);
    expect((await latestExecution(seeded.cronjob.id))?.errorMessage).toBe(
      `previous tick ${startingId} still starting its run`,
    );

    const dead = ago(STUCK_AFTER_MS + MINUTE);
    await db
      .update(boxCronjobExecution)
      .set({ createdAt: dead })
      .where(eq(boxCronjobExecution.id, startingId));
    const result = await tick(seeded.cronjob.id);
    expect(result.status, "past the overlap check, it hands its run over").toBe("running");
    expect((await latestExecution(seeded.cronjob.id))?.errorMessage).toBeNull();
  });

  it("ignores ended runs, and with overlap queue goes on to the box whatever still runs", async () => {
    const ended = await seedCronjob({ overlap: "skip" });
    await insertRun(ended, "completed");
    await insertRun(ended, "interrupted");
    const started = await tick(ended.cronjob.id);
    const afterEnded = await latestExecution(ended.cronjob.id);
    expect(afterEnded).toMatchObject({ status: "running", errorMessage: null, runId: started.runId });
    expect(afterEnded?.startedAt).toBeInstanceOf(Date);

    const queueing = await seedCronjob({ overlap: "queue" });
    await insertRun(queueing, "running");
    const queued = await tick(queueing.cronjob.id);
    expect(await latestExecution(queueing.cronjob.id)).toMatchObject({
      status: "running",
      runId: queued.runId,
    });
  });

  it("hands the run to the runs pipeline without waiting for the box, whose sandbox does not even exist", async () => {
    const seeded = await seedCronjob();
    const result = await tick(seeded.cronjob.id);
    expect(result).toMatchObject({ status: "running", runId: expect.any(String) });
    const [run] = await db.select().from(boxRun).where(eq(boxRun.cronjobId, seeded.cronjob.id));
    expect(run).toMatchObject({ id: result.runId, status: "queued", cronjobExecutionId: result.executionId });
    const follow = await deps.queues.get("followRun").getJob(String(result.runId));
    expect(follow?.data, "its follower, which wakes the box, is queued").toEqual({ runId: result.runId });
  });
});

function ago(ms: number) {
  return new Date(Date.now() - ms);
}
