import type { Database } from "@vps-claude/db";
import { sql } from "drizzle-orm";

export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Namespaces of the per-owner locks (two-int advisory keys: the namespace, then a hash of the owner id). */
export const LIMIT_LOCKS = {
  boxesPerUser: 7_311_201,
  cronjobsPerBox: 7_311_202,
  outboundRecipientsPerBox: 7_311_203,
} as const;

/**
 * Holds a per-owner lock until the transaction ends. Count and insert after it: concurrent creates at
 * a limit then take turns instead of all passing the same count.
 */
export async function lockOwnerLimit(tx: Transaction, lock: keyof typeof LIMIT_LOCKS, ownerId: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(${LIMIT_LOCKS[lock]}, hashtext(${ownerId}))`);
}
