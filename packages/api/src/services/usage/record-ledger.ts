import { boxRun, type Database, ledgerEntry, usageDaily, user } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { sql } from "drizzle-orm";
import type { ModelUsage } from "../model-gateway/model-usage";

/** The database or a transaction of it: the ledger is written in the caller's transaction. */
export type LedgerWriter = Parameters<Parameters<Database["transaction"]>[0]>[0] | Database;

/** One billable thing a box did, as the ledger takes it. */
export interface LedgerEntryInput {
  userId: string;
  boxId: string;
  boxName: string;
  /**
   * The run the box says this belongs to (`x-vps-run-id`). A box may name any id, so it is kept
   * only when that run is this box's own; the entry's trigger is that run's.
   */
  claimedRunId: string | null;
  kind: "model" | "media";
  provider: string;
  model: string | null;
  capability: string | null;
  tokens?: ModelUsage;
  /** Media only. */
  units?: number | null;
  unit?: string | null;
  costUsd: number | null;
  priceVersion: string;
  /** The record it was made from (`model_request.id`, `ai_usage.id`): writing it again adds nothing. */
  sourceId: string;
  /** When the request or call ended; its UTC day is the entry's day in `usage_daily`. */
  createdAt: Date;
}

/**
 * Writes ledger entries and adds them to `usage_daily`, in one statement (so in the caller's
 * transaction, and never half): the entries go in with their run resolved, an entry whose source
 * is already in the ledger is skipped, and only the rows actually inserted are summed into the
 * rollup, per user, box, UTC day, kind, model and trigger. One array parameter per column keeps the
 * statement the same size whatever the batch.
 */
export async function recordLedgerEntries(writer: LedgerWriter, entries: LedgerEntryInput[]): Promise<void> {
  if (entries.length === 0) {
    return;
  }
  const column = <T>(pick: (entry: LedgerEntryInput) => T) => sql.param(entries.map(pick));
  const tokens = (entry: LedgerEntryInput) => entry.tokens;
  await writer.execute(sql`
    with input as (
      select * from unnest(
        ${column(() => newId("ledgerEntry"))}::text[], ${column((e) => e.userId)}::text[],
        ${column((e) => e.boxId)}::text[], ${column((e) => e.boxName)}::text[],
        ${column((e) => e.claimedRunId)}::text[], ${column((e) => e.kind)}::text[],
        ${column((e) => e.provider)}::text[], ${column((e) => e.model)}::text[],
        ${column((e) => e.capability)}::text[],
        ${column((e) => tokens(e)?.inputTokens ?? 0)}::integer[],
        ${column((e) => tokens(e)?.outputTokens ?? 0)}::integer[],
        ${column((e) => tokens(e)?.cacheReadTokens ?? 0)}::integer[],
        ${column((e) => tokens(e)?.cacheWriteTokens ?? 0)}::integer[],
        ${column((e) => e.units ?? null)}::numeric[], ${column((e) => e.unit ?? null)}::text[],
        ${column((e) => e.costUsd)}::numeric[], ${column((e) => e.priceVersion)}::text[],
        ${column((e) => e.sourceId)}::text[], ${column((e) => e.createdAt.toISOString())}::timestamptz[]
      ) as i(
        id, user_id, box_id, box_name, claimed_run_id, kind, provider, model, capability,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, units, unit,
        cost_usd, price_version, source_id, created_at
      )
    ),
    inserted as (
      insert into ${ledgerEntry} (
        id, user_id, box_id, box_name, run_id, trigger, kind, provider, model, capability,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, units, unit,
        cost_usd, price_version, source_id, created_at
      )
      select
        i.id, i.user_id, i.box_id, i.box_name, r.id, r.trigger, i.kind::ledger_kind, i.provider,
        i.model, i.capability, i.input_tokens, i.output_tokens, i.cache_read_tokens,
        i.cache_write_tokens, i.units, i.unit, i.cost_usd, i.price_version, i.source_id, i.created_at
      from input i
      -- An owner deleted since the request is skipped, not a failure of everyone else's entries.
      join ${user} u on u.id = i.user_id
      left join ${boxRun} r on r.id = i.claimed_run_id and r.box_id = i.box_id
      on conflict (source_id) do nothing
      returning user_id, box_id, box_name, created_at, kind, model, trigger, input_tokens,
        output_tokens, cache_read_tokens, cache_write_tokens, cost_usd
    )
    insert into ${usageDaily} as d (
      user_id, box_id, box_name, day, kind, model, trigger, entries, unpriced_entries,
      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, media_calls, cost_usd
    )
    select
      user_id, box_id, max(box_name), (created_at at time zone 'UTC')::date, kind,
      coalesce(model, ''), coalesce(trigger::text, ''), count(*), count(*) filter (where cost_usd is null),
      sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
      count(*) filter (where kind = 'media'), coalesce(sum(cost_usd), 0)
    from inserted
    group by user_id, box_id, (created_at at time zone 'UTC')::date, kind, coalesce(model, ''),
      coalesce(trigger::text, '')
    -- Rows are locked in key order, so two batches touching the same days cannot deadlock.
    order by 1, 2, 4, 5, 6, 7
    on conflict (user_id, box_id, day, kind, model, trigger) do update set
      box_name = excluded.box_name,
      entries = d.entries + excluded.entries,
      unpriced_entries = d.unpriced_entries + excluded.unpriced_entries,
      input_tokens = d.input_tokens + excluded.input_tokens,
      output_tokens = d.output_tokens + excluded.output_tokens,
      cache_read_tokens = d.cache_read_tokens + excluded.cache_read_tokens,
      cache_write_tokens = d.cache_write_tokens + excluded.cache_write_tokens,
      media_calls = d.media_calls + excluded.media_calls,
      cost_usd = d.cost_usd + excluded.cost_usd
  `);
}
