import {
  box,
  boxCronjob,
  boxCronjobExecution,
  boxDeployStep,
  boxEmail,
  boxRun,
  type Database,
} from "@vps-claude/db";
import { createLogger } from "@vps-claude/logger";
import { QUEUES } from "@vps-claude/queue";
import { createRedis } from "@vps-claude/redis";
import { newId } from "@vps-claude/shared";
import { type Platform, seedUserWithBox, startPlatform } from "@vps-claude/testing/platform";
import { Worker } from "bullmq";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiDeps } from "../../deps";
import { reconcilePlatform } from "./reconcile-platform";
import { RECONCILE_SCHEDULER_ID, scheduleReconcile } from "./schedule-reconcile";

const MINUTE = 60_000;
const logger = createLogger({ name: "reconcile-test", level: "silent" });

let platform: Platform;
let deps: ApiDeps;

beforeAll(async () => {
  // Real Postgres, Redis and queues; no workers, so jobs added stay where the reconciler put them.
  platform = await startPlatform({ label: "reconcile" });
  deps = {
    ...platform.deps,
    config: {
      ...platform.deps.config,
      deployStuckAfterMs: 15 * MINUTE,
      reconcile: {
        everyMs: MINUTE,
        deployFailAfterMs: 15 * MINUTE,
        runGraceMs: 10 * MINUTE,
        cronTickStuckAfterMs: 15 * MINUTE,
        emailRunMissingAfterMs: 10 * MINUTE,
        lostJobAfterMs: 2 * MINUTE,
      },
    },
  };
});

afterAll(async () => {
  await platform?.close();
});

const ago = (ms: number) => new Date(Date.now() - ms);
const reconcile = () => reconcilePlatform({ deps, logger });

async function seedRunningBox(db: Database) {
  const seeded = await seedUserWithBox(db);
  await db.update(box).set({ status: "running" }).where(eq(box.id, seeded.box.id));
  return seeded;
}

async function insertRun(
  db: Database,
  owner: { userId: string; boxId: string },
  values: Partial<typeof boxRun.$inferInsert> = {},
) {
  const [row] = await db
    .insert(boxRun)
    .values({
      id: newId("run"),
      boxId: owner.boxId,
      userId: owner.userId,
      trigger: "api",
      contextType: "session",
      contextId: "reconcile-test",
      prompt: "hello",
      dispatch: {},
      maxDurationMs: 30 * MINUTE,
      ...values,
    })
    .returning();
  if (!row) {
    throw new Error("inserting the run returned no row");
  }
  return row;
}

async function runRow(id: string) {
  const [row] = await deps.db.select().from(boxRun).where(eq(boxRun.id, id));
  return row;
}

async function followJobState(runId: string) {
  const job = await deps.queues.get("followRun").getJob(runId);
  return job ? job.getState() : "missing";
}

async function insertCronjob(db: Database, boxId: string) {
  const [row] = await db
    .insert(boxCronjob)
    .values({
      id: newId("cronjob"),
      boxId,
      name: `job-${newId("cronjob")}`,
      schedule: "* * * * *",
      prompt: "tick",
    })
    .returning();
  if (!row) {
    throw new Error("inserting the cronjob returned no row");
  }
  return row;
}

async function insertExecution(
  db: Database,
  cronjob: { id: string; boxId: string },
  values: Partial<typeof boxCronjobExecution.$inferInsert>,
) {
  const [row] = await db
    .insert(boxCronjobExecution)
    .values({
      id: newId("cronjobExecution"),
      cronjobId: cronjob.id,
      boxId: cronjob.boxId,
      scheduledFor: new Date(Date.now() - Math.floor(Math.random() * 1e9)),
      ...values,
    })
    .returning();
  if (!row) {
    throw new Error("inserting the execution returned no row");
  }
  return row;
}

async function executionRow(id: string) {
  const [row] = await deps.db.select().from(boxCronjobExecution).where(eq(boxCronjobExecution.id, id));
  return row;
}

async function insertInboundEmail(
  db: Database,
  boxId: string,
  values: Partial<typeof boxEmail.$inferInsert>,
) {
  const id = newId("email");
  const [row] = await db
    .insert(boxEmail)
    .values({
      id,
      boxId,
      direction: "inbound",
      status: "received",
      messageId: `<${id}@example.com>`,
      threadId: `<${id}@example.com>`,
      fromAddress: "someone@example.com",
      toAddresses: ["box@agents.localhost"],
      subject: "Hello",
      textBody: "Please answer.",
      provider: "smtp",
      ...values,
    })
    .returning();
  if (!row) {
    throw new Error("inserting the email returned no row");
  }
  return row;
}

async function emailRow(id: string) {
  const [row] = await deps.db.select().from(boxEmail).where(eq(boxEmail.id, id));
  return row;
}

/** Lets a throwaway worker finish whatever waits in `queue` (the job keeps its id, as a finished job). */
async function drainQueue(queue: string) {
  const connection = createRedis(platform.config.REDIS_URL, "worker");
  const worker = new Worker(queue, async () => "done", { connection, prefix: platform.queuePrefix });
  try {
    await expect
      .poll(async () => (await deps.queues.named(queue).getJobCounts("waiting", "active")).waiting, {
        timeout: 20_000,
      })
      .toBe(0);
    await expect
      .poll(async () => (await deps.queues.named(queue).getJobCounts("active")).active, { timeout: 20_000 })
      .toBe(0);
  } finally {
    await worker.close();
    connection.disconnect();
  }
}

describe("reconciler: runs", () => {
  it("interrupts a running run past its limit plus grace, and the tick it belongs to fails with the reason", async () => {
    const { userId, box: target } = await seedRunningBox(deps.db);
    const cronjob = await insertCronjob(deps.db, target.id);
    const execution = await insertExecution(deps.db, cronjob, {
      status: "running",
      startedAt: ago(50 * MINUTE),
      createdAt: ago(50 * MINUTE),
    });
    const run = await insertRun(
      deps.db,
      { userId, boxId: target.id },
      {
        trigger: "cron",
        status: "running",
        createdAt: ago(50 * MINUTE),
        startedAt: ago(45 * MINUTE),
        cronjobId: cronjob.id,
        cronjobExecutionId: execution.id,
      },
    );
    await deps.db
      .update(boxCronjobExecution)
      .set({ runId: run.id })
      .where(eq(boxCronjobExecution.id, execution.id));

    const summary = await reconcile();

    expect(summary.runs.interrupted, JSON.stringify(summary)).toContain(run.id);
    const ended = await runRow(run.id);
    expect(ended?.status).toBe("interrupted");
    expect(ended?.error).toMatch(
      /no final event came from the box within its 30 minutes limit and 10 minutes of grace/,
    );
    expect(ended?.completedAt).toBeInstanceOf(Date);
    const tick = await executionRow(execution.id);
    expect(tick?.status).toBe("failed");
    expect(tick?.errorMessage).toMatch(/^run interrupted: no final event/);

    // A second pass finds nothing left to do with them.
    const again = await reconcile();
    expect(again.runs.interrupted).not.toContain(run.id);
    expect(again.cronExecutions.finished).not.toContain(execution.id);
  });

  it("leaves a run within its deadline alone, and adds its follow job again when that is gone", async () => {
    const { userId, box: target } = await seedRunningBox(deps.db);
    const lost = await insertRun(
      deps.db,
      { userId, boxId: target.id },
      { status: "running", createdAt: ago(5 * MINUTE), startedAt: ago(5 * MINUTE) },
    );
    const fresh = await insertRun(deps.db, { userId, boxId: target.id }, { createdAt: ago(10_000) });

    const summary = await reconcile();

    expect(summary.runs.followed).toContain(lost.id);
    expect(await followJobState(lost.id)).toBe("waiting");
    expect((await runRow(lost.id))?.status).toBe("running");
    // Just started: its follow job is startRun's to add.
    expect(summary.runs.followed).not.toContain(fresh.id);
    expect(await followJobState(fresh.id)).toBe("missing");

    // Its job alive, a second pass adds nothing.
    const again = await reconcile();
    expect(again.runs.followed).not.toContain(lost.id);
  });

  it("adds a follow job again even when a finished one still holds the run's id", async () => {
    const { userId, box: target } = await seedRunningBox(deps.db);
    const run = await insertRun(
      deps.db,
      { userId, boxId: target.id },
      { status: "running", createdAt: ago(5 * MINUTE), startedAt: ago(5 * MINUTE) },
    );
    await deps.queues.enqueue("followRun", { runId: run.id }, { jobId: run.id });
    // The job ended (as if its worker gave up) while the run did not.
    await drainQueue(QUEUES.followRun);
    expect(await followJobState(run.id)).toBe("completed");

    const summary = await reconcile();

    expect(summary.runs.followed).toContain(run.id);
    expect(await followJobState(run.id)).toBe("waiting");
  });

  it("lets a queued run past its deadline wait while its follower is alive, and interrupts it once that is gone", async () => {
    const { userId, box: target } = await seedRunningBox(deps.db);
    const run = await insertRun(
      deps.db,
      { userId, boxId: target.id },
      { status: "queued", createdAt: ago(45 * MINUTE) },
    );
    await deps.queues.enqueue("followRun", { runId: run.id }, { jobId: run.id });

    const waiting = await reconcile();
    expect(waiting.runs.interrupted).not.toContain(run.id);
    expect((await runRow(run.id))?.status).toBe("queued");

    await (await deps.queues.get("followRun").getJob(run.id))?.remove();
    const summary = await reconcile();
    expect(summary.runs.interrupted).toContain(run.id);
    const ended = await runRow(run.id);
    expect(ended?.status).toBe("interrupted");
    expect(ended?.error).toMatch(
      /^the run never started: the box did not take it up within its 30 minutes limit/,
    );
  });
});

describe("reconciler: cron executions", () => {
  it("fails a tick that never reached a run, saying where it stopped, and leaves a recent one alone", async () => {
    const { box: target } = await seedRunningBox(deps.db);
    const cronjob = await insertCronjob(deps.db, target.id);
    const pending = await insertExecution(deps.db, cronjob, {
      status: "pending",
      createdAt: ago(20 * MINUTE),
    });
    const waking = await insertExecution(deps.db, cronjob, {
      status: "waking_box",
      createdAt: ago(20 * MINUTE),
      startedAt: ago(19 * MINUTE),
    });
    const recent = await insertExecution(deps.db, cronjob, { status: "pending", createdAt: ago(MINUTE) });

    const summary = await reconcile();

    expect(summary.cronExecutions.failed).toEqual(expect.arrayContaining([pending.id, waking.id]));
    const pendingRow = await executionRow(pending.id);
    expect(pendingRow).toMatchObject({ status: "failed" });
    expect(pendingRow?.errorMessage).toMatch(
      /^the tick never reached the box: nothing happened for 15 minutes/,
    );
    expect(pendingRow?.completedAt).toBeInstanceOf(Date);
    const wakingRow = await executionRow(waking.id);
    expect(wakingRow?.errorMessage).toMatch(/^the tick never reached the box: it was still waking the box/);
    expect(wakingRow?.durationMs).toBeGreaterThanOrEqual(19 * MINUTE);
    expect((await executionRow(recent.id))?.status).toBe("pending");
  });

  it("finishes a tick whose run ended from that run, and leaves one whose run still goes", async () => {
    const { userId, box: target } = await seedRunningBox(deps.db);
    const cronjob = await insertCronjob(deps.db, target.id);
    const done = await insertExecution(deps.db, cronjob, {
      status: "running",
      createdAt: ago(30 * MINUTE),
      startedAt: ago(30 * MINUTE),
    });
    const doneRun = await insertRun(
      deps.db,
      { userId, boxId: target.id },
      {
        trigger: "cron",
        status: "completed",
        result: "all done",
        costUsd: 0.25,
        sessionId: "session-1",
        createdAt: ago(30 * MINUTE),
        completedAt: ago(20 * MINUTE),
        cronjobId: cronjob.id,
        cronjobExecutionId: done.id,
      },
    );
    const going = await insertExecution(deps.db, cronjob, {
      status: "running",
      createdAt: ago(20 * MINUTE),
      startedAt: ago(20 * MINUTE),
    });
    const goingRun = await insertRun(
      deps.db,
      { userId, boxId: target.id },
      {
        trigger: "cron",
        status: "running",
        createdAt: ago(20 * MINUTE),
        startedAt: ago(20 * MINUTE),
        cronjobId: cronjob.id,
        cronjobExecutionId: going.id,
      },
    );
    await deps.queues.enqueue("followRun", { runId: goingRun.id }, { jobId: goingRun.id });

    const summary = await reconcile();

    expect(summary.cronExecutions.finished).toContain(done.id);
    expect(await executionRow(done.id)).toMatchObject({
      status: "completed",
      runId: doneRun.id,
      costUsd: 0.25,
      sessionId: "session-1",
      resultExcerpt: "all done",
    });
    expect(await executionRow(going.id)).toMatchObject({ status: "running" });
  });
});

describe("reconciler: inbound emails", () => {
  it("queues the delivery of an email whose deliver job is gone, unless an owner's retry is queued", async () => {
    const { box: target } = await seedRunningBox(deps.db);
    const lost = await insertInboundEmail(deps.db, target.id, {
      status: "received",
      createdAt: ago(10 * MINUTE),
      updatedAt: ago(10 * MINUTE),
    });
    const retried = await insertInboundEmail(deps.db, target.id, {
      status: "received",
      createdAt: ago(10 * MINUTE),
      updatedAt: ago(10 * MINUTE),
    });
    await deps.queues.enqueue(
      "deliverEmail",
      { emailId: retried.id },
      { jobId: `deliver-${retried.id}-retry-1` },
    );
    const arriving = await insertInboundEmail(deps.db, target.id, { status: "received" });

    const summary = await reconcile();

    expect(summary.emails.requeued).toContain(lost.id);
    const job = await deps.queues.get("deliverEmail").getJob(`deliver-${lost.id}`);
    expect(await job?.getState()).toBe("waiting");
    expect(summary.emails.requeued).not.toContain(retried.id);
    expect(await deps.queues.get("deliverEmail").getJob(`deliver-${retried.id}`)).toBeUndefined();
    expect(summary.emails.requeued).not.toContain(arriving.id);
  });

  it("finishes a delivered email from its ended run: processed when it completed, failed with the reason otherwise", async () => {
    const { userId, box: target } = await seedRunningBox(deps.db);
    const answered = await insertInboundEmail(deps.db, target.id, {
      status: "delivered",
      deliveredAt: ago(MINUTE),
    });
    await insertRun(
      deps.db,
      { userId, boxId: target.id },
      {
        trigger: "email",
        contextType: "email",
        status: "completed",
        emailId: answered.id,
        completedAt: ago(30_000),
      },
    );
    const cut = await insertInboundEmail(deps.db, target.id, {
      status: "delivered",
      deliveredAt: ago(MINUTE),
    });
    await insertRun(
      deps.db,
      { userId, boxId: target.id },
      {
        trigger: "email",
        contextType: "email",
        status: "interrupted",
        error: "box-agent restarted mid-run",
        emailId: cut.id,
        completedAt: ago(30_000),
      },
    );

    const summary = await reconcile();

    expect(summary.emails.finished).toEqual(expect.arrayContaining([answered.id, cut.id]));
    expect(await emailRow(answered.id)).toMatchObject({ status: "processed", errorMessage: null });
    const cutRow = await emailRow(cut.id);
    expect(cutRow?.status).toBe("failed");
    expect(cutRow?.errorMessage).toContain("box-agent restarted mid-run");
  });

  it("starts the run of an email delivered long ago without one, once", async () => {
    const { box: target } = await seedRunningBox(deps.db);
    const orphan = await insertInboundEmail(deps.db, target.id, {
      status: "delivered",
      deliveredAt: ago(15 * MINUTE),
      updatedAt: ago(15 * MINUTE),
    });
    const recent = await insertInboundEmail(deps.db, target.id, {
      status: "delivered",
      deliveredAt: ago(MINUTE),
    });

    const summary = await reconcile();

    expect(summary.emails.runsStarted, JSON.stringify(summary)).toContain(orphan.id);
    const runs = await deps.db.select().from(boxRun).where(eq(boxRun.emailId, orphan.id));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: "email", boxId: target.id });
    expect(summary.emails.runsStarted).not.toContain(recent.id);

    const again = await reconcile();
    expect(again.emails.runsStarted).not.toContain(orphan.id);
    expect(await deps.db.select().from(boxRun).where(eq(boxRun.emailId, orphan.id))).toHaveLength(1);
  });
});

describe("reconciler: deploys", () => {
  it("puts a box whose deploy stopped moving in error with the reason, and leaves a moving one alone", async () => {
    const { box: stuck } = await seedUserWithBox(deps.db, { boxName: "Stuck" });
    const deployId = newId("deploy");
    await deps.db
      .update(box)
      .set({ status: "deploying", deployId, updatedAt: ago(20 * MINUTE) })
      .where(eq(box.id, stuck.id));
    await deps.db.insert(boxDeployStep).values([
      {
        id: newId("deployStep"),
        boxId: stuck.id,
        deployId,
        step: "createSprite",
        status: "completed",
        updatedAt: ago(19 * MINUTE),
      },
      {
        id: newId("deployStep"),
        boxId: stuck.id,
        deployId,
        step: "setupStep",
        status: "running",
        updatedAt: ago(18 * MINUTE),
      },
    ]);
    const { box: moving } = await seedUserWithBox(deps.db, { boxName: "Moving" });
    const movingDeploy = newId("deploy");
    await deps.db
      .update(box)
      .set({ status: "deploying", deployId: movingDeploy, updatedAt: ago(20 * MINUTE) })
      .where(eq(box.id, moving.id));
    await deps.db.insert(boxDeployStep).values({
      id: newId("deployStep"),
      boxId: moving.id,
      deployId: movingDeploy,
      step: "setupStep",
      status: "running",
    });

    const summary = await reconcile();

    expect(summary.deploys.failed).toContain(stuck.id);
    const [stuckRow] = await deps.db.select().from(box).where(eq(box.id, stuck.id));
    expect(stuckRow?.status).toBe("error");
    expect(stuckRow?.errorMessage).toBe(
      "The deploy made no progress for 15 minutes (its jobs were lost or its worker stopped). Redeploy the box to start over.",
    );
    const steps = await deps.db.select().from(boxDeployStep).where(eq(boxDeployStep.deployId, deployId));
    expect(Object.fromEntries(steps.map((step) => [step.step, step.status]))).toEqual({
      createSprite: "completed",
      setupStep: "failed",
    });
    const [movingRow] = await deps.db.select().from(box).where(eq(box.id, moving.id));
    expect(movingRow?.status).toBe("deploying");
  });
});

describe("reconciler: schedule", () => {
  it("is one scheduler however many workers set it", async () => {
    await scheduleReconcile({ deps });
    await scheduleReconcile({ deps });
    const schedulers = await deps.queues.get("reconcile").getJobSchedulers();
    expect(schedulers.map((scheduler) => [scheduler.key, Number(scheduler.every)])).toEqual([
      [RECONCILE_SCHEDULER_ID, MINUTE],
    ]);
  });
});
