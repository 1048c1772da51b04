import { box } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { type Platform, seedUserWithBox, startPlatform, waitFor } from "@vps-claude/testing/platform";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECONCILE_SCHEDULER_ID } from "../services/reconcile/schedule-reconcile";

let platform: Platform;

beforeAll(async () => {
  // The workers as `npm start` runs them, the reconciler every second.
  platform = await startPlatform({
    label: "reconcile_worker",
    workers: true,
    env: { RECONCILE_EVERY_MS: "1000" },
  });
});

afterAll(async () => {
  await platform?.close();
});

describe("the reconcile worker", () => {
  it("is scheduled when the workers start and resolves what it finds on its own", async () => {
    const schedulers = await platform.deps.queues.get("reconcile").getJobSchedulers();
    expect(schedulers.map((scheduler) => scheduler.key)).toEqual([RECONCILE_SCHEDULER_ID]);

    const { db } = platform.deps;
    const { box: stuck } = await seedUserWithBox(db, { boxName: "Forgotten" });
    await db
      .update(box)
      .set({ status: "deploying", deployId: newId("deploy"), updatedAt: new Date(Date.now() - 60 * 60_000) })
      .where(eq(box.id, stuck.id));

    const resolved = await waitFor(
      async () => (await db.select().from(box).where(eq(box.id, stuck.id)))[0],
      (row) => row?.status === "error",
      { timeout: 30_000, what: "the reconciler to give up on the deploy" },
    );
    expect(resolved?.errorMessage).toMatch(/^The deploy made no progress for 15 minutes/);
  });
});
