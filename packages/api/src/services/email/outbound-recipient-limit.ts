import { boxEmail } from "@vps-claude/db";
import { and, eq, gt, ne, type SQL, sql } from "drizzle-orm";
import { ServiceError } from "../../errors";
import { lockOwnerLimit, type Transaction } from "../limits/owner-lock";

/**
 * The outbound limit counts recipients, not emails: one email to 50 addresses is 50. Each email is
 * charged its to + cc once per rolling hour, at its latest send activity — queued, attempted, or
 * retried by the owner — so a retry is checked against (and charged to) the hour it happens in.
 * Automatic retries of one send are not charged again: the provider's idempotency key (our email
 * id) keeps them from reaching anyone twice.
 *
 * Call inside the transaction that queues the email: the per-box advisory lock makes concurrent
 * sends at the limit take turns instead of all passing the same count.
 */
export async function checkOutboundRecipientLimit({
  tx,
  boxId,
  recipients,
  limit,
  retryOfEmailId,
}: {
  tx: Transaction;
  boxId: string;
  /** Recipients of the email about to be queued. */
  recipients: number;
  limit: number;
  /** For a retry: the email itself, whose earlier charge this one replaces. */
  retryOfEmailId?: string;
}) {
  await lockOwnerLimit(tx, "outboundRecipientsPerBox", boxId);
  if (recipients > limit) {
    throw new ServiceError(
      "TOO_MANY_REQUESTS",
      `this email has ${recipients} recipients; a box may send to at most ${limit} recipients per hour`,
    );
  }
  const conditions: SQL[] = [
    eq(boxEmail.boxId, boxId),
    eq(boxEmail.direction, "outbound"),
    gt(boxEmail.updatedAt, new Date(Date.now() - 3_600_000)),
  ];
  if (retryOfEmailId) {
    conditions.push(ne(boxEmail.id, retryOfEmailId));
  }
  const [row] = await tx
    .select({
      used: sql<number>`coalesce(sum(cardinality(${boxEmail.toAddresses}) + cardinality(${boxEmail.ccAddresses})), 0)::int`,
    })
    .from(boxEmail)
    .where(and(...conditions));
  const used = Number(row?.used ?? 0);
  if (used + recipients > limit) {
    throw new ServiceError(
      "TOO_MANY_REQUESTS",
      `this box has sent to ${used} recipients in the last hour; ${recipients} more would pass its limit of ` +
        `${limit} recipients per hour; try again later`,
    );
  }
}
