import { TERMINAL_RUN_STATUSES } from "@vps-claude/contract/box-agent";
import { boxEmail, boxRun } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import { and, desc, eq, inArray, lt, notExists, notInArray, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { ApiDeps } from "../../deps";
import { finishEmailRun } from "../email/finish-email-run";
import { enqueueDelivery } from "../email/receive-inbound-email";
import { startRunForDeliveredEmail } from "../email/start-email-run";
import { findJob, liveJobDataValues, readdJob } from "./lost-jobs";

/** Rows looked at per tick and per kind; the rest wait for the next tick. */
const BATCH = 500;

const otherRun = alias(boxRun, "other_run");

const isInbound = eq(boxEmail.direction, "inbound");

/**
 * Inbound emails left between arrival and answer: one still `received`/`queued` whose deliver job
 * is gone gets it again; one `delivered` whose run has ended is finished from that run (as
 * completeRun would have); one `delivered` with no run for `emailRunMissingAfterMs` gets its run.
 */
export async function reconcileInboundEmails({
  deps,
  now,
  logger,
}: {
  deps: ApiDeps;
  now: Date;
  logger: Logger;
}): Promise<{ requeued: string[]; finished: string[]; runsStarted: string[] }> {
  return {
    requeued: await requeueLostDeliveries({ deps, now }),
    finished: await finishEmailsWhoseRunEnded({ deps }),
    runsStarted: await startMissingEmailRuns({ deps, now, logger }),
  };
}

async function requeueLostDeliveries({ deps, now }: { deps: ApiDeps; now: Date }): Promise<string[]> {
  const waiting = await deps.db
    .select({ id: boxEmail.id })
    .from(boxEmail)
    .where(
      and(
        isInbound,
        inArray(boxEmail.status, ["received", "queued"]),
        // Nothing moved for a while: a delivery in its first moments has its job on the way.
        lt(boxEmail.updatedAt, new Date(now.getTime() - deps.config.reconcile.lostJobAfterMs)),
      ),
    )
    .orderBy(boxEmail.updatedAt)
    .limit(BATCH);
  if (waiting.length === 0) {
    return [];
  }
  const queue = deps.queues.get("deliverEmail");
  let retried: Set<string> | undefined;
  const requeued: string[] = [];
  for (const { id } of waiting) {
    if ((await findJob(queue, deliveryJobId(id))).live) {
      continue;
    }
    // An owner's retry queues the delivery under an id of its own; read those once, when needed.
    retried ??= await liveJobDataValues(queue, "emailId");
    if (retried.has(id)) {
      continue;
    }
    const outcome = await readdJob({ queue, jobId: deliveryJobId(id), add: () => enqueueDelivery(deps, id) });
    if (outcome === "added") {
      requeued.push(id);
    }
  }
  return requeued;
}

/** The id `enqueueDelivery` gives an email's deliver job. */
const deliveryJobId = (emailId: string) => `deliver-${emailId}`;

async function finishEmailsWhoseRunEnded({ deps }: { deps: Pick<ApiDeps, "db"> }): Promise<string[]> {
  const candidates = await deps.db
    .selectDistinctOn([boxEmail.id], { emailId: boxEmail.id, run: boxRun })
    .from(boxEmail)
    .innerJoin(boxRun, eq(boxRun.emailId, boxEmail.id))
    .where(
      and(
        isInbound,
        eq(boxEmail.status, "delivered"),
        inArray(boxRun.status, [...TERMINAL_RUN_STATUSES]),
        notExists(
          deps.db
            .select({ id: otherRun.id })
            .from(otherRun)
            .where(
              and(eq(otherRun.emailId, boxEmail.id), notInArray(otherRun.status, [...TERMINAL_RUN_STATUSES])),
            ),
        ),
      ),
    )
    // The latest run decides (an owner's retry is a later run of the same email).
    .orderBy(boxEmail.id, desc(boxRun.createdAt), desc(boxRun.id))
    .limit(BATCH);
  const finished: string[] = [];
  for (const { emailId, run } of candidates) {
    await deps.db.transaction(async (tx) => {
      // Not if it was finished meanwhile (completeRun, or a reconciler in another process).
      const [still] = await tx
        .select({ id: boxEmail.id })
        .from(boxEmail)
        .where(and(eq(boxEmail.id, emailId), eq(boxEmail.status, "delivered")))
        .for("update");
      if (!still) {
        return;
      }
      await finishEmailRun({ db: tx, run });
      finished.push(emailId);
    });
  }
  return finished;
}

async function startMissingEmailRuns({
  deps,
  now,
  logger,
}: {
  deps: ApiDeps;
  now: Date;
  logger: Logger;
}): Promise<string[]> {
  const missedBefore = new Date(now.getTime() - deps.config.reconcile.emailRunMissingAfterMs);
  const orphans = await deps.db
    .select({ id: boxEmail.id })
    .from(boxEmail)
    .where(
      and(
        isInbound,
        eq(boxEmail.status, "delivered"),
        lt(sql`coalesce(${boxEmail.deliveredAt}, ${boxEmail.updatedAt})`, missedBefore),
        notExists(deps.db.select({ id: boxRun.id }).from(boxRun).where(eq(boxRun.emailId, boxEmail.id))),
      ),
    )
    .orderBy(boxEmail.updatedAt)
    .limit(BATCH);
  const started: string[] = [];
  for (const { id } of orphans) {
    // One email's failure (its box gone, Redis refusing) must not keep the others waiting.
    try {
      const run = await startRunForDeliveredEmail({ deps, emailId: id });
      if (run?.created) {
        started.push(id);
      }
    } catch (err) {
      logger.warn({ err, emailId: id }, "could not start the run of a delivered email; next tick retries");
    }
  }
  return started;
}
