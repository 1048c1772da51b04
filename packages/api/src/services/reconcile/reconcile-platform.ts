import type { Logger } from "@vps-claude/logger";
import type { ApiDeps } from "../../deps";
import { reconcileCronExecutions } from "./reconcile-cron-executions";
import { failStuckDeploys } from "./reconcile-deploys";
import { reconcileInboundEmails } from "./reconcile-inbound-emails";
import { reconcileRuns } from "./reconcile-runs";

export interface ReconcileSummary {
  runs: { interrupted: string[]; followed: string[] };
  cronExecutions: { failed: string[]; finished: string[] };
  emails: { requeued: string[]; finished: string[]; runsStarted: string[] };
  deploys: { failed: string[] };
  /** The parts that could not finish (the next tick tries them again). */
  errors: { part: string; message: string }[];
}

/**
 * One pass of the reconciler: resolves every run, cron execution, inbound delivery and deploy left
 * non-terminal past its deadline, each with the reason it was given up on. Runs go first, so what a
 * run started (a tick, an email) is ended by completeRun in the same pass where it can be.
 * Every change is conditional on the row being as it was read, so a pass overlapping another (a slow
 * one in another process) or the live pipeline finishing the same thing at once changes it only once.
 */
export async function reconcilePlatform({
  deps,
  logger,
  now = new Date(),
}: {
  deps: ApiDeps;
  logger: Logger;
  now?: Date;
}): Promise<ReconcileSummary> {
  const errors: ReconcileSummary["errors"] = [];
  const part = async <T>(name: string, empty: T, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      logger.error({ err, part: name }, "reconcile part failed; the next tick retries it");
      errors.push({ part: name, message: err instanceof Error ? err.message : String(err) });
      return empty;
    }
  };
  const runs = await part("runs", { interrupted: [], followed: [] }, () =>
    reconcileRuns({ deps, now, logger }),
  );
  const cronExecutions = await part("cronExecutions", { failed: [], finished: [] }, () =>
    reconcileCronExecutions({ deps, now }),
  );
  const emails = await part("emails", { requeued: [], finished: [], runsStarted: [] }, () =>
    reconcileInboundEmails({ deps, now, logger }),
  );
  const deploys = { failed: await part("deploys", [] as string[], () => failStuckDeploys({ deps, now })) };
  const summary = { runs, cronExecutions, emails, deploys, errors };
  const changed =
    runs.interrupted.length +
    runs.followed.length +
    cronExecutions.failed.length +
    cronExecutions.finished.length +
    emails.requeued.length +
    emails.finished.length +
    emails.runsStarted.length +
    deploys.failed.length;
  if (changed > 0) {
    logger.info(summary, "reconciled what was left unfinished");
  }
  return summary;
}
