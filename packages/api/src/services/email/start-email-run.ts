import { createHash } from "node:crypto";
import { box, boxEmail, boxRun } from "@vps-claude/db";
import { and, desc, eq, inArray } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { startRun } from "../run/start-run";

type EmailRow = typeof boxEmail.$inferSelect;
type BoxRow = typeof box.$inferSelect;

/** box-agent's context ids are at most this long (`runCreateInput.contextId`). */
const CONTEXT_ID_MAX = 256;

/**
 * The context an email's run is in: its thread, so every email of a thread continues one Claude
 * session. A thread id is a Message-ID, which a sender can make longer than box-agent takes; such a
 * one is replaced by a digest, stable for the thread, so its emails still share one session.
 */
export function emailContextId(threadId: string): string {
  if (threadId.length <= CONTEXT_ID_MAX && threadId.trim() === threadId && threadId.length > 0) {
    return threadId;
  }
  return `thread-sha256:${createHash("sha256").update(threadId).digest("hex")}`;
}

/** What an email's run record shows as its prompt: who wrote and about what (the email itself is in the box). */
export function emailRunPrompt(email: Pick<EmailRow, "fromAddress" | "subject">): string {
  const subject = email.subject.trim() || "(no subject)";
  return `Email from ${email.fromAddress.slice(0, 300)}: ${subject.slice(0, 500)}`;
}

/**
 * Starts the run that answers an inbound email already in its box's inbox. Idempotent for the
 * email's first run (a retried delivery gets the run it started before); `retryOf` starts another
 * one, the owner's retry of the run named.
 */
export function startEmailRun({
  deps,
  email,
  target,
  retryOf,
}: {
  deps: ApiDeps;
  email: EmailRow;
  target: BoxRow;
  retryOf?: string;
}) {
  return startRun({
    deps,
    target,
    trigger: "email",
    contextType: "email",
    contextId: emailContextId(email.threadId),
    task: { kind: "email", emailId: email.id },
    prompt: emailRunPrompt(email),
    links: { emailId: email.id, ...(retryOf ? { retryOf } : {}) },
  });
}

/**
 * Starts the first run of a delivered inbound email that has none (a delivery whose worker died
 * between delivering and starting it). For the reconciler: returns null when there is nothing to
 * start (no such email, not inbound, not delivered), else what `startRun` answered.
 */
export async function startRunForDeliveredEmail({ deps, emailId }: { deps: ApiDeps; emailId: string }) {
  const [row] = await deps.db
    .select({ email: boxEmail, box })
    .from(boxEmail)
    .innerJoin(box, eq(box.id, boxEmail.boxId))
    .where(and(eq(boxEmail.id, emailId), eq(boxEmail.direction, "inbound"), eq(boxEmail.status, "delivered")))
    .limit(1);
  if (!row) {
    return null;
  }
  return startEmailRun({ deps, email: row.email, target: row.box });
}

/** The latest run of each email (by id), for the emails' views; emails with no run are absent. */
export async function latestRunsOfEmails({
  deps,
  boxId,
  emailIds,
}: {
  deps: Pick<ApiDeps, "db">;
  boxId: string;
  emailIds: string[];
}): Promise<Map<string, { id: string; status: (typeof boxRun.$inferSelect)["status"] }>> {
  if (emailIds.length === 0) {
    return new Map();
  }
  const rows = await deps.db
    .selectDistinctOn([boxRun.emailId], { emailId: boxRun.emailId, id: boxRun.id, status: boxRun.status })
    .from(boxRun)
    .where(and(eq(boxRun.boxId, boxId), inArray(boxRun.emailId, emailIds)))
    .orderBy(boxRun.emailId, desc(boxRun.createdAt), desc(boxRun.id));
  return new Map(
    rows.flatMap((row) => (row.emailId ? [[row.emailId, { id: row.id, status: row.status }]] : [])),
  );
}
