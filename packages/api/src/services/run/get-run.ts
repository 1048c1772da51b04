import { boxRun, boxRunEvent } from "@vps-claude/db";
import { and, asc, eq, gt } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { notFound } from "../../errors";
import { ledgerCostOfRuns } from "./run-cost";
import { toRunDto, toRunEvent } from "./run-dto";
import type { RunRow, Tx } from "./run-origin";

/**
 * A run of the given box, or 404: the box was already proven the caller's, so a run id of another
 * box (the caller's or anyone's) is indistinguishable from one that does not exist.
 */
export async function getBoxRunRow({
  db,
  boxId,
  runId,
}: {
  db: Tx;
  boxId: string;
  runId: string;
}): Promise<RunRow> {
  const [row] = await db
    .select()
    .from(boxRun)
    .where(and(eq(boxRun.id, runId), eq(boxRun.boxId, boxId)))
    .limit(1);
  if (!row) {
    throw notFound("run", runId);
  }
  return row;
}

/** The run's stored transcript after `afterSeq` (all of it from 0), in order; at most `limit` events when given. */
export async function listRunEvents({
  db,
  runId,
  afterSeq = 0,
  limit,
}: {
  db: Tx;
  runId: string;
  afterSeq?: number;
  limit?: number;
}) {
  const query = db
    .select()
    .from(boxRunEvent)
    .where(and(eq(boxRunEvent.runId, runId), gt(boxRunEvent.seq, afterSeq)))
    .orderBy(asc(boxRunEvent.seq));
  const rows = limit === undefined ? await query : await query.limit(limit);
  return rows.map(toRunEvent);
}

/** A run, with its cost from the ledger, and its transcript so far. */
export async function getRun({ deps, boxId, runId }: { deps: ApiDeps; boxId: string; runId: string }) {
  const row = await getBoxRunRow({ db: deps.db, boxId, runId });
  const [costs, events] = await Promise.all([
    ledgerCostOfRuns({ db: deps.db, boxId, runIds: [runId] }),
    listRunEvents({ db: deps.db, runId }),
  ]);
  return { ...toRunDto(row, costs.get(runId)), events };
}
