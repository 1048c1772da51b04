import { box, boxCronjob, boxCronjobExecution } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";

type ExecutionStatus = (typeof boxCronjobExecution.$inferSelect)["status"];

/**
 * One scheduled tick: record it first (so every tick leaves a trace, even one that cannot run),
 * then wake the box and hand the prompt to box-agent, which runs it in the cronjob's own Claude
 * session. The tick's timestamp is unique per cronjob, so a re-delivered tick runs once.
 */
export async function triggerCronjob({
  deps,
  cronjobId,
  scheduledFor,
}: {
  deps: ApiDeps;
  cronjobId: string;
  scheduledFor: Date;
}): Promise<{ executionId?: string; status: ExecutionStatus | "duplicate" | "gone" }> {
  const [row] = await deps.db
    .select({ cronjob: boxCronjob, box })
    .from(boxCronjob)
    .innerJoin(box, eq(box.id, boxCronjob.boxId))
    .where(eq(boxCronjob.id, cronjobId))
    .limit(1);
  if (!row) {
    return { status: "gone" };
  }
  const executionId = newId("cronjobExecution");
  const [execution] = await deps.db
    .insert(boxCronjobExecution)
    .values({ id: executionId, cronjobId, boxId: row.box.id, scheduledFor, status: "pending" })
    .onConflictDoNothing()
    .returning();
  if (!execution) {
    return { status: "duplicate" };
  }
  const finish = async (
    status: "completed" | "failed" | "skipped",
    extra: { errorMessage?: string; sessionId?: string; resultExcerpt?: string },
  ) => {
    const completedAt = new Date();
    const startedAt = (
      await deps.db.select().from(boxCronjobExecution).where(eq(boxCronjobExecution.id, executionId))
    )[0]?.startedAt;
    await deps.db
      .update(boxCronjobExecution)
      .set({
        status,
        completedAt,
        durationMs: startedAt ? completedAt.getTime() - startedAt.getTime() : 0,
        errorMessage: extra.errorMessage ?? null,
        sessionId: extra.sessionId ?? null,
        resultExcerpt: extra.resultExcerpt?.slice(0, 4_000) ?? null,
      })
      .where(eq(boxCronjobExecution.id, executionId));
    if (status !== "skipped") {
      await deps.db.update(boxCronjob).set({ lastRunAt: completedAt }).where(eq(boxCronjob.id, cronjobId));
    }
    return { executionId, status };
  };

  if (!row.cronjob.enabled) {
    // Nothing failed: the owner switched it off. Recorded, so the history shows the tick came.
    return finish("skipped", { errorMessage: "cronjob is disabled" });
  }
  if (row.box.status !== "running") {
    return finish("failed", { errorMessage: `box is ${row.box.status}, not running` });
  }
  await deps.db
    .update(boxCronjobExecution)
    .set({ status: "waking_box", startedAt: new Date() })
    .where(eq(boxCronjobExecution.id, executionId));
  try {
    // Any request through the sprite URL wakes a sleeping sprite; /health answers once box-agent is back.
    const wake = await deps.boxAgent.call(row.box, "health", undefined, { timeoutMs: 60_000 });
    if (!wake.ok) {
      return finish("failed", {
        errorMessage: `the box did not wake: box-agent /health answered HTTP ${wake.status}`,
      });
    }
    await deps.db
      .update(boxCronjobExecution)
      .set({ status: "running" })
      .where(eq(boxCronjobExecution.id, executionId));
    const response = await deps.boxAgent.call(
      row.box,
      "cron.trigger",
      { cronjobId, name: row.cronjob.name, prompt: row.cronjob.prompt },
      { timeoutMs: 4.5 * 60_000 },
    );
    if (!response.ok) {
      return finish("failed", {
        errorMessage: `box-agent answered HTTP ${response.status}: ${response.message}`,
      });
    }
    const outcome = response.body;
    const sessionId = outcome.sessionId ?? undefined;
    if (outcome.status === "failed") {
      return finish("failed", {
        errorMessage: outcome.error ?? "the run failed without saying why",
        sessionId,
      });
    }
    return finish("completed", { sessionId, resultExcerpt: outcome.result ?? undefined });
  } catch (err) {
    return finish("failed", { errorMessage: err instanceof Error ? err.message : String(err) });
  }
}
