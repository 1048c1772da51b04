import type { RunStatus, RunTrigger } from "@vps-claude/contract/box-agent";
import { boxRun } from "@vps-claude/db";
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { ledgerCostOfRuns } from "./run-cost";
import { toRunDto } from "./run-dto";

export interface ListRunsFilter {
  trigger?: RunTrigger;
  status?: RunStatus;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
  limit: number;
}

/** Where a page ended: the last run's creation time, to the microsecond Postgres keeps, and its id. */
interface RunCursor {
  at: string;
  id: string;
}

const EXACT_CREATED_AT = sql<string>`to_char(${boxRun.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function encodeRunCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString("base64url");
}

export function decodeRunCursor(value: string): RunCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === "string" &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(parsed[0]) &&
      typeof parsed[1] === "string" &&
      parsed[1].length <= 100
    ) {
      return { at: parsed[0], id: parsed[1] };
    }
  } catch {
    // Falls through to the one refusal below.
  }
  throw new ServiceError(
    "BAD_REQUEST",
    "cursor is not one this API gave out: pass the nextCursor of the previous page, or none for the first page",
  );
}

/**
 * The box's runs, newest first, one page at a time, each with its cost from the ledger. The cursor is
 * a keyset position (creation time, id), so a page never repeats or skips a run however many start meanwhile.
 */
export async function listRuns({
  deps,
  boxId,
  filter,
}: {
  deps: ApiDeps;
  boxId: string;
  filter: ListRunsFilter;
}) {
  const conditions: SQL[] = [eq(boxRun.boxId, boxId)];
  if (filter.trigger) {
    conditions.push(eq(boxRun.trigger, filter.trigger));
  }
  if (filter.status) {
    conditions.push(eq(boxRun.status, filter.status));
  }
  if (filter.cursor) {
    const cursor = decodeRunCursor(filter.cursor);
    conditions.push(sql`(${boxRun.createdAt}, ${boxRun.id}) < (${cursor.at}::timestamptz, ${cursor.id})`);
  }
  const rows = await deps.db
    .select({ run: boxRun, exactCreatedAt: EXACT_CREATED_AT })
    .from(boxRun)
    .where(and(...conditions))
    .orderBy(desc(boxRun.createdAt), desc(boxRun.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  const costs = await ledgerCostOfRuns({ db: deps.db, boxId, runIds: page.map(({ run }) => run.id) });
  return {
    runs: page.map(({ run }) => toRunDto(run, costs.get(run.id))),
    nextCursor:
      rows.length > filter.limit && last
        ? encodeRunCursor({ at: last.exactCreatedAt, id: last.run.id })
        : null,
  };
}
