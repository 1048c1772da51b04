import { contextTypeSchema, runCreateInput } from "@vps-claude/contract/box-agent";
import { type box, boxRun } from "@vps-claude/db";
import { and, eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { getBoxRunRow } from "./get-run";
import { requireRunningBox } from "./start-chat-run";
import { startRun } from "./start-run";

type BoxRow = typeof box.$inferSelect;

/** The ends a run may be retried from: its work was not done. A completed run is not redone. */
const RETRYABLE_STATUSES = new Set(["failed", "interrupted", "cancelled"]);

/**
 * Starts a failed, interrupted or cancelled run again: the same trigger, context, session mode and
 * task, as the run it retries was dispatched, linked to it (`retryOf`) and to what started it (the
 * email, the cronjob and its execution). The agent config is resolved again, so a fix the owner made
 * since applies; a cron run keeps the model and limit its cronjob gave it.
 */
export async function retryRun({
  deps,
  target,
  runId,
}: {
  deps: ApiDeps;
  target: BoxRow;
  runId: string;
}): Promise<{ runId: string }> {
  const row = await getBoxRunRow({ db: deps.db, boxId: target.id, runId });
  if (!RETRYABLE_STATUSES.has(row.status)) {
    throw new ServiceError(
      "CONFLICT",
      row.status === "completed"
        ? `run '${runId}' completed; only a failed, interrupted or cancelled run can be retried`
        : `run '${runId}' is still ${row.status}; wait for it to end (or cancel it) before retrying`,
    );
  }
  const [retried] = await deps.db
    .select({ id: boxRun.id })
    .from(boxRun)
    .where(and(eq(boxRun.boxId, target.id), eq(boxRun.retryOf, row.id)))
    .limit(1);
  if (retried) {
    // A second press of the button must not start the work twice.
    throw new ServiceError(
      "CONFLICT",
      `run '${runId}' was already retried as run '${retried.id}'; retry that one if it did not succeed`,
    );
  }
  requireRunningBox(target);
  const dispatch = runCreateInput.safeParse(row.dispatch);
  const contextType = contextTypeSchema.safeParse(row.contextType);
  if (!dispatch.success || !contextType.success) {
    throw new ServiceError(
      "CONFLICT",
      `run '${runId}' cannot be retried: what it was asked is not recorded in a form this version reads`,
    );
  }
  const { runId: retryId } = await startRun({
    deps,
    target,
    trigger: row.trigger,
    contextType: contextType.data,
    contextId: row.contextId,
    session: dispatch.data.session,
    task: dispatch.data.task,
    prompt: row.prompt,
    ...(row.trigger === "cron"
      ? { ...(row.model ? { model: row.model } : {}), maxDurationMs: row.maxDurationMs }
      : {}),
    links: {
      retryOf: row.id,
      ...(row.emailId ? { emailId: row.emailId } : {}),
      ...(row.cronjobId ? { cronjobId: row.cronjobId } : {}),
      ...(row.cronjobExecutionId ? { cronjobExecutionId: row.cronjobExecutionId } : {}),
    },
  });
  return { runId: retryId };
}
