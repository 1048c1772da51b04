import { boxEmail, boxEmailSettings } from "@vps-claude/db";
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { notFound, ServiceError } from "../../errors";
import { toEmailDetail, toEmailSummary } from "./email-dto";
import { checkOutboundRecipientLimit } from "./outbound-recipient-limit";
import { enqueueDelivery } from "./receive-inbound-email";

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
  return rows.map(toEmailSummary);
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

export async function getEmail({ deps, boxId, emailId }: { deps: ApiDeps; boxId: string; emailId: string }) {
  return toEmailDetail(await getEmailRow(deps, boxId, emailId));
}

/**
 * Puts a failed email back on its way: inbound → delivered to the box again, outbound → sent again.
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
  const status = row.direction === "inbound" ? "received" : "queued";
  await deps.db.transaction(async (tx) => {
    if (row.direction === "outbound") {
      await checkOutboundRecipientLimit({
        tx,
        boxId,
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
  return toEmailDetail({ ...row, status, errorMessage: null });
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
