import { boxCronjob, boxCronjobExecution, boxRun, type Database } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { openScratchDatabase, seedUserWithBox } from "@vps-claude/testing/platform";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finishCronExecution } from "./finish-cron-execution";

let scratch: Awaited<ReturnType<typeof openScratchDatabase>>;
let db: Database;

beforeAll(async () => {
  scratch = await openScratchDatabase();
  db = scratch.db;
});

afterAll(async () => {
  await scratch?.close();
});

type RunStatus = (typeof boxRun.$inferSelect)["status"];
type ExecutionStatus = (typeof boxCronjobExecution.$inferSelect)["status"];

/** A cronjob with one tick `running` since `startedAt`, as triggerCronjob leaves it. */
async function runningTick({
  status = "running",
  startedAt = new Date(Date.now() - 90_000),
}: {
  status?: ExecutionStatus;
  startedAt?: Date;
} = {}) {
  const { box, userId } = await seedUserWithBox(db);
  const cronjobId = newId("cronjob");
  await db
    .insert(boxCronjob)
    .values({ id: cronjobId, boxId: box.id, name: "digest", schedule: "0 9 * * *", prompt: "Summarise" });
  const executionId = newId("cronjobExecution");
  await db.insert(boxCronjobExecution).values({
    id: executionId,
    cronjobId,
    boxId: box.id,
    scheduledFor: new Date(),
    status,
    startedAt,
  });
  return { box, userId, cronjobId, executionId, startedAt };
}

async function endedRun(
  tick: Awaited<ReturnType<typeof runningTick>>,
  status: RunStatus,
  values: Partial<typeof boxRun.$inferInsert> = {},
) {
  const [run] = await db
    .insert(boxRun)
    .values({
      id: newId("run"),
      boxId: tick.box.id,
      userId: tick.userId,
      trigger: "cron",
      contextType: "cron",
      contextId: tick.cronjobId,
      status,
      prompt: "Summarise",
      dispatch: {},
      maxDurationMs: 30 * 60_000,
      cronjobId: tick.cronjobId,
      cronjobExecutionId: tick.executionId,
      completedAt: status === "queued" || status === "running" ? null : new Date(),
      ...values,
    })
    .returning();
  if (!run) {
    throw new Error("inserting the run returned no row");
  }
  return run;
}

async function executionOf(id: string) {
  const [row] = await db.select().from(boxCronjobExecution).where(eq(boxCronjobExecution.id, id));
  return row;
}

async function lastRunAtOf(cronjobId: string) {
  const [row] = await db.select().from(boxCronjob).where(eq(boxCronjob.id, cronjobId));
  return row?.lastRunAt ?? null;
}

describe("finishCronExecution", () => {
  it("completes the tick with the run's session, cost, result and true duration", async () => {
    const tick = await runningTick();
    const run = await endedRun(tick, "completed", {
      sessionId: "sess-1",
      costUsd: 0.0421,
      result: `done. ${"x".repeat(5_000)}`,
    });
    await finishCronExecution({ db, run });
    const execution = await executionOf(tick.executionId);
    expect(execution, JSON.stringify(execution)).toMatchObject({
      status: "completed",
      runId: run.id,
      sessionId: "sess-1",
      costUsd: 0.0421,
      errorMessage: null,
      completedAt: run.completedAt,
    });
    expect(execution?.resultExcerpt?.startsWith("done. ")).toBe(true);
    expect(execution?.resultExcerpt?.length).toBe(4_000);
    const completedAt = run.completedAt?.getTime() ?? 0;
    expect(execution?.durationMs).toBe(completedAt - tick.startedAt.getTime());
    expect(await lastRunAtOf(tick.cronjobId)).toEqual(run.completedAt);
  });

  it.each([
    ["failed", "the model API answered 500", "the model API answered 500"],
    ["failed", null, "the run failed without saying why"],
    ["cancelled", null, "run cancelled"],
    ["interrupted", "box-agent restarted mid-run", "run interrupted: box-agent restarted mid-run"],
  ] as const)("a %s run (error %j) fails the tick: %s", async (status, error, reason) => {
    const tick = await runningTick();
    const run = await endedRun(tick, status, { error, costUsd: 0.01 });
    await finishCronExecution({ db, run });
    expect(await executionOf(tick.executionId)).toMatchObject({
      status: "failed",
      errorMessage: reason,
      runId: run.id,
      costUsd: 0.01,
    });
  });

  it("leaves an ended execution as it was, so a second call changes nothing", async () => {
    const tick = await runningTick({ status: "failed" });
    const before = await executionOf(tick.executionId);
    const run = await endedRun(tick, "completed", { costUsd: 1 });
    await finishCronExecution({ db, run });
    expect(await executionOf(tick.executionId)).toEqual(before);
    expect(await lastRunAtOf(tick.cronjobId)).toBeNull();
  });

  it("ends a tick still waking its box (a fast run) and ignores runs not yet ended", async () => {
    const waking = await runningTick({ status: "waking_box" });
    await finishCronExecution({ db, run: await endedRun(waking, "running") });
    expect((await executionOf(waking.executionId))?.status).toBe("waking_box");

    const fast = await runningTick({ status: "waking_box" });
    await finishCronExecution({ db, run: await endedRun(fast, "completed") });
    expect((await executionOf(fast.executionId))?.status).toBe("completed");
  });
});
