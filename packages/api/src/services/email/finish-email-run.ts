import { boxEmail, boxRun } from "@vps-claude/db";
import { and, eq, gt, ne, notExists } from "drizzle-orm";
import type { RunRow, Tx } from "../run/run-origin";

const REASON_MAX = 2_000;

/** What the email shows when its run did not complete: what happened and, where it helps, what to do. */
export function emailRunFailure(run: Pick<RunRow, "status" | "error">): string | null {
  const reason = (run.error ?? "").trim().slice(0, REASON_MAX);
  switch (run.status) {
    case "completed":
      return null;
    case "cancelled":
      return "the run was cancelled";
    case "interrupted":
      return `the run was interrupted: ${reason || "no reason recorded"}; retry it`;
    default:
      return `the run failed: ${reason || "no reason recorded"}`;
  }
}

/**
 * Ends the inbound email a run answered, in the transaction that ended the run: `processed` when it
 * completed, `failed` with the reason otherwise. Only the email's latest run speaks for it: an older
 * one ending late (the owner already retried it) changes nothing.
 */
export async function finishEmailRun({ db, run }: { db: Tx; run: RunRow }): Promise<void> {
  if (!run.emailId || run.status === "queued" || run.status === "running") {
    return;
  }
  const failure = emailRunFailure(run);
  const newerRun = db
    .select({ id: boxRun.id })
    .from(boxRun)
    .where(and(eq(boxRun.emailId, run.emailId), ne(boxRun.id, run.id), gt(boxRun.createdAt, run.createdAt)));
  await db
    .update(boxEmail)
    .set(failure ? { status: "failed", errorMessage: failure } : { status: "processed", errorMessage: null })
    .where(
      and(
        eq(boxEmail.id, run.emailId),
        eq(boxEmail.direction, "inbound"),
        ne(boxEmail.status, "rejected"),
        notExists(newerRun),
      ),
    );
}
