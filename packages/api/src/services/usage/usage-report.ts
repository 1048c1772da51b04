import type { UsageGroup, UsageRow, UsageTotals } from "@vps-claude/contract";
import { box, usageDaily } from "@vps-claude/db";
import { and, eq, type SQL, sql } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { notFound, ServiceError } from "../../errors";

/** The longest span one report may cover: two years of days, enough for any chart, bounded for the database. */
export const MAX_USAGE_REPORT_DAYS = 731;

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a UTC day. */
const isoDay = (at: Date) => at.toISOString().slice(0, 10);

/** A real calendar day (the contract's pattern also lets `2026-02-31` through), or a 400 naming the field. */
function parseDay(value: string, field: "from" | "to"): number {
  const at = Date.parse(`${value}T00:00:00.000Z`);
  if (Number.isNaN(at) || isoDay(new Date(at)) !== value) {
    throw new ServiceError("BAD_REQUEST", `${field} '${value}' is not a calendar day (YYYY-MM-DD, UTC)`);
  }
  return at;
}

/** The report's days: from the first of this month and to today (UTC) unless given, at most MAX_USAGE_REPORT_DAYS. */
export function reportSpan(
  { from, to }: { from?: string; to?: string },
  now: Date,
): { from: string; to: string } {
  const today = isoDay(now);
  const span = { from: from ?? `${today.slice(0, 7)}-01`, to: to ?? today };
  const start = parseDay(span.from, "from");
  const end = parseDay(span.to, "to");
  if (start > end) {
    throw new ServiceError("BAD_REQUEST", `from (${span.from}) is after to (${span.to}); swap them`);
  }
  const days = (end - start) / DAY_MS + 1;
  if (days > MAX_USAGE_REPORT_DAYS) {
    throw new ServiceError(
      "BAD_REQUEST",
      `a usage report covers at most ${MAX_USAGE_REPORT_DAYS} days; ${span.from} to ${span.to} is ${days}: narrow from/to`,
    );
  }
  return span;
}

/**
 * A box the user may ask about: one of theirs, or one they had (deleted, its usage kept under its
 * id and name). Anything else is 404, exactly as another user's box is everywhere else.
 */
async function assertBoxOfUser(deps: Pick<ApiDeps, "db">, userId: string, boxId: string): Promise<void> {
  const [owned] = await deps.db
    .select({ id: box.id })
    .from(box)
    .where(and(eq(box.id, boxId), eq(box.userId, userId)))
    .limit(1);
  if (owned) {
    return;
  }
  const [had] = await deps.db
    .select({ boxId: usageDaily.boxId })
    .from(usageDaily)
    .where(and(eq(usageDaily.userId, userId), eq(usageDaily.boxId, boxId)))
    .limit(1);
  if (!had) {
    throw notFound("box", boxId);
  }
}

/** Each grouping's key expression in the rollup; `''` (none) becomes null on the way out. */
const GROUP_KEYS: Record<UsageGroup, SQL> = {
  day: sql`${usageDaily.day}`,
  box: sql`${usageDaily.boxId}`,
  model: sql`${usageDaily.model}`,
  trigger: sql`${usageDaily.trigger}`,
};

interface ReportRow extends Record<string, unknown> {
  is_total: number;
  day: string | null;
  box_id: string | null;
  box_name: string | null;
  model: string | null;
  trigger: string | null;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  media_calls: number;
  model_requests: number;
  unpriced_entries: number;
}

function totalsOf(row: ReportRow | undefined): UsageTotals {
  return {
    costUsd: row?.cost_usd ?? 0,
    inputTokens: row?.input_tokens ?? 0,
    outputTokens: row?.output_tokens ?? 0,
    cacheReadTokens: row?.cache_read_tokens ?? 0,
    cacheWriteTokens: row?.cache_write_tokens ?? 0,
    mediaCalls: row?.media_calls ?? 0,
    modelRequests: row?.model_requests ?? 0,
    unpricedEntries: row?.unpriced_entries ?? 0,
  };
}

/** A grouped row: the grouping's fields set, the others null (an entry that had no model or trigger is null too). */
function rowOf(row: ReportRow, groupBy: UsageGroup[]): UsageRow {
  const has = (group: UsageGroup) => groupBy.includes(group);
  return {
    day: has("day") ? row.day : null,
    boxId: has("box") ? row.box_id : null,
    boxName: has("box") ? row.box_name : null,
    model: has("model") ? row.model || null : null,
    trigger: has("trigger") ? row.trigger || null : null,
    ...totalsOf(row),
  };
}

export interface UsageReportQuery {
  from?: string;
  to?: string;
  boxId?: string;
  groupBy: UsageGroup[];
}

/**
 * The user's spend and tokens over UTC days, summed per the grouping (one or two of day, box, model,
 * trigger), with the totals. Read from the daily rollup, never the ledger's rows, so a month of a busy
 * user is a few hundred rows whatever the ledger holds; one statement answers rows and totals
 * (`grouping sets`). Days without usage have no row. A box appears under the name it last had in
 * the rollup, so a deleted box still shows by the name it had.
 */
export async function usageReport({
  deps,
  userId,
  query,
  now = new Date(),
}: {
  deps: Pick<ApiDeps, "db">;
  userId: string;
  query: UsageReportQuery;
  now?: Date;
}) {
  const span = reportSpan(query, now);
  const groupBy = [...new Set(query.groupBy)];
  if (query.boxId) {
    await assertBoxOfUser(deps, userId, query.boxId);
  }
  const keys = groupBy.map((group) => GROUP_KEYS[group]);
  const [first] = keys;
  if (!first) {
    throw new ServiceError("BAD_REQUEST", "groupBy needs one or two of day, box, model, trigger");
  }
  const grouped = (group: UsageGroup, expression: SQL) =>
    groupBy.includes(group) ? expression : sql`null::text`;
  const order: SQL[] = [sql`is_total desc`];
  if (groupBy.includes("day")) {
    order.push(sql`day asc`);
  }
  order.push(
    sql`cost_usd desc`,
    sql`box_id asc nulls first`,
    sql`model asc nulls first`,
    sql`trigger asc nulls first`,
  );

  const result = await deps.db.execute<ReportRow>(sql`
    select
      grouping(${first})::int as is_total,
      ${grouped("day", sql`to_char(${usageDaily.day}, 'YYYY-MM-DD')`)} as day,
      ${grouped("box", sql`${usageDaily.boxId}`)} as box_id,
      ${grouped("box", sql`(array_agg(${usageDaily.boxName} order by ${usageDaily.day} desc))[1]`)} as box_name,
      ${grouped("model", sql`${usageDaily.model}`)} as model,
      ${grouped("trigger", sql`${usageDaily.trigger}`)} as trigger,
      coalesce(round(sum(${usageDaily.costUsd}), 6), 0)::float8 as cost_usd,
      coalesce(sum(${usageDaily.inputTokens}), 0)::float8 as input_tokens,
      coalesce(sum(${usageDaily.outputTokens}), 0)::float8 as output_tokens,
      coalesce(sum(${usageDaily.cacheReadTokens}), 0)::float8 as cache_read_tokens,
      coalesce(sum(${usageDaily.cacheWriteTokens}), 0)::float8 as cache_write_tokens,
      coalesce(sum(${usageDaily.mediaCalls}), 0)::float8 as media_calls,
      coalesce(sum(${usageDaily.entries}) filter (where ${usageDaily.kind} = 'model'), 0)::float8 as model_requests,
      coalesce(sum(${usageDaily.unpricedEntries}), 0)::float8 as unpriced_entries
    from ${usageDaily}
    where ${usageDaily.userId} = ${userId}
      and ${usageDaily.day} between ${span.from}::date and ${span.to}::date
      ${query.boxId ? sql`and ${usageDaily.boxId} = ${query.boxId}` : sql``}
    group by grouping sets ((${sql.join(keys, sql`, `)}), ())
    order by ${sql.join(order, sql`, `)}
  `);
  const rows = result.rows.filter((row) => row.is_total === 0);
  const total = result.rows.find((row) => row.is_total === 1);
  return {
    from: span.from,
    to: span.to,
    groupBy,
    totals: totalsOf(total),
    rows: rows.map((row) => rowOf(row, groupBy)),
  };
}
