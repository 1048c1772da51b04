import { isTerminalRunStatus, type RunStatus } from "@vps-claude/contract/box-agent";
import { box, boxEmail, boxEmailSettings } from "@vps-claude/db";
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { notFound, ServiceError } from "../../errors";
import { requireRunningBox } from "../run/start-chat-run";
import { toEmailDetail, toEmailSummary } from "./email-dto";
import { checkOutboundRecipientLimit } from "./outbound-recipient-limit";
import { enqueueDelivery } from "./receive-inbound-email";
import { latestRunsOfEmails, startEmailRun } from "./start-email-run";

type EmailRow = typeof boxEmail.$inferSelect;

export interface ListEmailsFilter {
  direction?: "inbound" | "outbound";
  status?: (typeof boxEmail.$inferSelect)["status"];
  threadId?: string;
  limit: number;
  /** The id of the last email of the previous page. */
  before?: string;
}

export async function listEmails({
  deps,
  boxId,
  filter,
}: {
  deps: ApiDeps;
  boxId: string;
  filter: ListEmailsFilter;
}) {
  const conditions: SQL[] = [eq(boxEmail.boxId, boxId)];
  if (filter.direction) {
    conditions.push(eq(boxEmail.direction, filter.direction));
  }
  if (filter.status) {
    conditions.push(eq(boxEmail.status, filter.status));
  }
  if (filter.threadId) {
    conditions.push(eq(boxEmail.threadId, filter.threadId));
  }
  if (filter.before) {
    const [cursor] = await deps.db
      .select({ createdAt: boxEmail.createdAt, id: boxEmail.id })
      .from(boxEmail)
      .where(and(eq(boxEmail.id, filter.before), eq(boxEmail.boxId, boxId)))
      .limit(1);
    if (cursor) {
      const older = or(
        lt(boxEmail.createdAt, cursor.createdAt),
        and(eq(boxEmail.createdAt, cursor.createdAt), lt(boxEmail.id, cursor.id)),
      );
      if (older) {
        conditions.push(older);
      }
    }
  }
  const rows = await deps.db
    .select()
    .from(boxEmail)
    .where(and(...conditions))
    .orderBy(desc(boxEmail.createdAt), desc(boxEmail.id))
    .limit(filter.limit);
  const runs = await latestRunsOfEmails({ deps, boxId, emailIds: rows.map((row) => row.id) });
  return rows.map((row) => toEmailSummary(row, runs.get(row.id)?.id ?? null));
}

async function getEmailRow(deps: ApiDeps, boxId: string, emailId: string) {
  const [row] = await deps.db
    .select()
    .from(boxEmail)
    .where(and(eq(boxEmail.id, emailId), eq(boxEmail.boxId, boxId)))
    .limit(1);
  if (!row) {
    throw notFound("email", emailId);
  }
  return row;
}

async function latestRunOf(deps: ApiDeps, boxId: string, emailId: string) {
  return (await latestRunsOfEmails({ deps, boxId, emailIds: [emailId] })).get(emailId);
}

export async function getEmail({ deps, boxId, emailId }: { deps: ApiDeps; boxId: string; emailId: string }) {
  const row = await getEmailRow(deps, boxId, emailId);
  return toEmailDetail(row, (await latestRunOf(deps, boxId, emailId))?.id ?? null);
}

/**
 * Puts a failed email back on its way: an inbound one whose run did not complete gets a new run (the
 * email is in the box already), one never delivered is delivered again, an outbound one is sent again.
 * An outbound retry is a send like any other: it passes the box's hourly recipient limit first.
 */
export async function retryEmail({
  deps,
  boxId,
  emailId,
}: {
  deps: ApiDeps;
  boxId: string;
  emailId: string;
}) {
  const row = await getEmailRow(deps, boxId, emailId);
  if (row.status !== "failed") {
    throw new ServiceError("CONFLICT", `only a failed email can be retried; this one is ${row.status}`);
  }
  if (row.direction === "inbound") {
    const lastRun = await latestRunOf(deps, boxId, emailId);
    if (lastRun) {
      return retryEmailRun({ deps, email: row, lastRun });
    }
  }
  return resendOrRedeliver(deps, row);
}

/** A delivered email whose run failed, was interrupted or cancelled: a new run, linked to the last one. */
async function retryEmailRun({
  deps,
  email,
  lastRun,
}: {
  deps: ApiDeps;
  email: EmailRow;
  lastRun: { id: string; status: RunStatus };
}) {
  if (!isTerminalRunStatus(lastRun.status)) {
    throw new ServiceError(
      "CONFLICT",
      `this email's run ${lastRun.id} is still ${lastRun.status}; wait for it to end before retrying`,
    );
  }
  const [target] = await deps.db.select().from(box).where(eq(box.id, email.boxId)).limit(1);
  if (!target) {
    throw notFound("box", email.boxId);
  }
  requireRunningBox(target);
  const claimed = await deps.db
    .update(boxEmail)
    .set({ status: "delivered", errorMessage: null })
    .where(and(eq(boxEmail.id, email.id), eq(boxEmail.status, "failed")))
    .returning({ id: boxEmail.id });
  if (claimed.length === 0) {
    throw new ServiceError("CONFLICT", "this email is already being retried");
  }
  let run: { runId: string };
  try {
    run = await startEmailRun({ deps, email, target, retryOf: lastRun.id });
  } catch (err) {
    // Not started: the email shows why, and the owner may press retry again.
    await deps.db
      .update(boxEmail)
      .set({
        status: "failed",
        errorMessage: `the retry could not start a run: ${err instanceof Error ? err.message : String(err)}`,
      })
      .where(and(eq(boxEmail.id, email.id), eq(boxEmail.status, "delivered")));
    throw err;
  }
  deps.logger.info({ emailId: email.id, runId: run.runId, retryOf: lastRun.id }, "email run retried");
  return toEmailDetail({ ...email, status: "delivered", errorMessage: null }, run.runId);
}

/** An inbound email never delivered is delivered again; an outbound one is sent again. */
async function resendOrRedeliver(deps: ApiDeps, row: EmailRow) {
  const emailId = row.id;
  const status = row.direction === "inbound" ? "received" : "queued";
  await deps.db.transaction(async (tx) => {
    if (row.direction === "outbound") {
      await checkOutboundRecipientLimit({
        tx,
        boxId: row.boxId,
        recipients: row.toAddresses.length + row.ccAddresses.length,
        limit: deps.config.email.recipientsPerHour,
        retryOfEmailId: row.id,
      });
    }
    const [updated] = await tx
      .update(boxEmail)
      .set({ status, errorMessage: null })
      .where(and(eq(boxEmail.id, emailId), eq(boxEmail.status, "failed")))
      .returning({ id: boxEmail.id });
    if (!updated) {
      throw new ServiceError("CONFLICT", "this email is already being retried");
    }
  });
  const retryId = `${Date.now()}`;
  if (row.direction === "inbound") {
    await deps.queues.enqueue(
      "deliverEmail",
      { emailId },
      {
        jobId: `deliver-${emailId}-retry-${retryId}`,
        backoff: { type: "exponential", delay: deps.config.email.deliveryRetryBaseMs },
      },
    );
  } else {
    await deps.queues.enqueue("sendEmail", { emailId }, { jobId: `send-${emailId}-retry-${retryId}` });
  }
  return toEmailDetail({ ...row, status, errorMessage: null }, null);
}

export { enqueueDelivery };

export interface EmailSettingsDto {
  address: string;
  senderPolicy: "anyone" | "allowlist";
  allowedSenders: string[];
  blockedSenders: string[];
}

export async function getEmailSettings({
  deps,
  boxId,
  address,
}: {
  deps: ApiDeps;
  boxId: string;
  address: string;
}): Promise<EmailSettingsDto> {
  const [row] = await deps.db
    .select()
    .from(boxEmailSettings)
    .where(eq(boxEmailSettings.boxId, boxId))
    .limit(1);
  return {
    address,
    senderPolicy: row?.senderPolicy ?? "anyone",
    allowedSenders: row?.allowedSenders ?? [],
    blockedSenders: row?.blockedSenders ?? [],
  };
}

export async function updateEmailSettings({
  deps,
  boxId,
  address,
  patch,
}: {
  deps: ApiDeps;
  boxId: string;
  address: string;
  patch: Partial<Omit<EmailSettingsDto, "address">>;
}) {
  await deps.db
    .update(boxEmailSettings)
    .set({
      senderPolicy: patch.senderPolicy,
      allowedSenders: patch.allowedSenders?.map((entry) => entry.trim().toLowerCase()),
      blockedSenders: patch.blockedSenders?.map((entry) => entry.trim().toLowerCase()),
      updatedAt: new Date(),
    })
    .where(eq(boxEmailSettings.boxId, boxId));
  return getEmailSettings({ deps, boxId, address });
}
