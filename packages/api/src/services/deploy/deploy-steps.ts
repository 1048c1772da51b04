import { box, boxDeployStep, type Database } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { and, eq, sql } from "drizzle-orm";

/**
 * Creates the step rows of a deploy (all `pending`, in the order given) so the box page shows the
 * whole plan at once. Idempotent.
 */
export async function planDeploySteps({
  db,
  boxId,
  deployId,
  steps,
}: {
  db: Database;
  boxId: string;
  deployId: string;
  steps: string[];
}) {
  await db
    .insert(boxDeployStep)
    .values(steps.map((step, position) => ({ id: newId("deployStep"), boxId, deployId, step, position })))
    .onConflictDoNothing({ target: [boxDeployStep.deployId, boxDeployStep.step] });
}

export async function markStepRunning({
  db,
  boxId,
  deployId,
  step,
  attempt,
}: {
  db: Database;
  boxId: string;
  deployId: string;
  step: string;
  attempt: number;
}) {
  await db
    .insert(boxDeployStep)
    .values({
      id: newId("deployStep"),
      boxId,
      deployId,
      step,
      status: "running",
      attempt,
      startedAt: new Date(),
    })
    .onConflictDoUpdate({
      target: [boxDeployStep.deployId, boxDeployStep.step],
      set: {
        status: "running",
        attempt,
        startedAt: sql`coalesce(${boxDeployStep.startedAt}, now())`,
        errorMessage: null,
        updatedAt: new Date(),
      },
    });
}

export async function markStepFinished({
  db,
  deployId,
  step,
  status,
  logExcerpt,
  errorMessage,
}: {
  db: Database;
  deployId: string;
  step: string;
  status: "completed" | "failed" | "skipped" | "pending";
  logExcerpt?: string;
  errorMessage?: string | null;
}) {
  const finished = status !== "pending";
  await db
    .update(boxDeployStep)
    .set({
      status,
      completedAt: finished ? new Date() : null,
      durationMs: finished
        ? sql`(extract(epoch from (now() - coalesce(${boxDeployStep.startedAt}, now()))) * 1000)::int`
        : null,
      logExcerpt: logExcerpt === undefined ? undefined : tail(logExcerpt),
      errorMessage: errorMessage ?? null,
      updatedAt: new Date(),
    })
    .where(and(eq(boxDeployStep.deployId, deployId), eq(boxDeployStep.step, step)));
}

/** The last lines of a step's output: enough to see what happened, bounded so a chatty step cannot bloat the table. */
export function tail(text: string, maxChars = 4_000): string {
  return text.length <= maxChars ? text : `…${text.slice(-maxChars)}`;
}

/** Marks the box failed with the step's reason, unless a newer deploy (or a delete) has taken over. */
export async function failDeploy({
  db,
  boxId,
  deployId,
  label,
  reason,
}: {
  db: Database;
  boxId: string;
  deployId: string;
  /** The failed step's label. */
  label: string;
  reason: string;
}) {
  await db
    .update(box)
    .set({ status: "error", errorMessage: `${label} failed: ${reason}` })
    .where(and(eq(box.id, boxId), eq(box.deployId, deployId), sql`${box.status} <> 'deleting'`));
}

export async function listDeploySteps({
  db,
  boxId,
  deployId,
}: {
  db: Database;
  boxId: string;
  deployId: string;
}) {
  return db
    .select()
    .from(boxDeployStep)
    .where(and(eq(boxDeployStep.boxId, boxId), eq(boxDeployStep.deployId, deployId)))
    .orderBy(boxDeployStep.position, boxDeployStep.id);
}
