import { priceOf, type UsageReportQuery, usageReport } from "@vps-claude/api";
import { ledgerEntry, usageDaily } from "@vps-claude/db";
import type { Platform } from "@vps-claude/testing/platform";
import { sql } from "drizzle-orm";
import { log } from "../lib/env";
import { runLoad } from "../lib/load";
import { type Percentiles, percentiles, roundMs, timeEach } from "./latency";

const ENTRIES = 1_000_000;
/** Inserted per statement, so progress shows and no single statement holds a million rows' locks. */
const CHUNK = 250_000;
const BOXES = 10;
const GROUPINGS = ["day", "box", "day,box", "model", "trigger"] as const;
const WARMUP_REQUESTS = 50;
const REQUESTS = 300;
const SERVICE_CALLS = 200;
const RAW_LEDGER_QUERIES = 5;
const RUN_TIME_LIMIT_MS = 60_000;

/** The tokens of every model entry: the example turn. */
const TOKENS = { inputTokens: 1_234, outputTokens: 567, cacheReadTokens: 89, cacheWriteTokens: 0 };
const MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-5"] as const;
const IMAGE = { provider: "fal", model: "fal-ai/flux/dev", units: 1 };

function modelCost(model: string): number {
  const { costUsd } = priceOf({ kind: "model", provider: "anthropic", model, tokens: TOKENS });
  if (costUsd === null) {
    throw new Error(`the price table has no price for '${model}'`);
  }
  return costUsd;
}

/**
 * 1,000,000 ledger entries for one user over a month (the 31 UTC days ending today), spread evenly
 * from its first day to now over 10 boxes, four triggers and three models; every 20th a media call, every 1,000th a
 * model with no price. Made by generate_series in Postgres, in four statements.
 */
async function insertLedger(platform: Platform, userId: string, monthStart: Date, now: Date): Promise<void> {
  const spanMs = Math.max(now.getTime() - monthStart.getTime(), 60_000);
  const cost = MODELS.map((model) => modelCost(model));
  const imageCost = priceOf({ kind: "media", ...IMAGE, capability: "image", unit: "image" }).costUsd;
  for (let first = 1; first <= ENTRIES; first += CHUNK) {
    const last = Math.min(first + CHUNK - 1, ENTRIES);
    log(`ledger: inserting entries ${first}–${last} of ${ENTRIES}`);
    await platform.deps.db.execute(sql`
      insert into ${ledgerEntry} (
        id, user_id, box_id, box_name, run_id, trigger, kind, provider, model, capability,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, units, unit,
        cost_usd, price_version, source_id, created_at
      )
      select
        'ledger_bench' || lpad(g::text, 10, '0'),
        ${userId},
        'box_bench' || lpad((g % ${BOXES})::text, 4, '0'),
        'Bench box ' || (g % ${BOXES}),
        null,
        (array['chat', 'email', 'cron', 'api'])[1 + g % 4]::run_trigger,
        case when media then 'media' else 'model' end::ledger_kind,
        case when media then ${IMAGE.provider} else 'anthropic' end,
        case
          when media then ${IMAGE.model}
          when unpriced then 'claude-unknown-bench'
          else (array[${MODELS[0]}, ${MODELS[1]}, ${MODELS[2]}])[1 + g % 3]
        end,
        case when media then 'image' end,
        case when media then 0 else ${TOKENS.inputTokens} end,
        case when media then 0 else ${TOKENS.outputTokens} end,
        case when media then 0 else ${TOKENS.cacheReadTokens} end,
        0,
        case when media then ${IMAGE.units}::numeric end,
        case when media then 'image' end,
        case
          when media then ${imageCost}::numeric
          when unpriced then null
          else (array[${cost[0]}::numeric, ${cost[1]}::numeric, ${cost[2]}::numeric])[1 + g % 3]
        end,
        'bench',
        'bench-' || g,
        ${monthStart.toISOString()}::timestamptz + (g::float8 / ${ENTRIES} * ${spanMs}) * interval '1 millisecond'
      from generate_series(${first}::int, ${last}::int) as g,
        lateral (select g % 20 = 0 as media, g % 1000 = 1 as unpriced) as f
    `);
  }
}

/**
 * The rollup as the ledger's write path keeps it (`recordLedgerEntries`): the same keys and sums,
 * made here in one pass over the user's entries instead of entry by entry.
 */
async function rollUp(platform: Platform, userId: string): Promise<number> {
  log("usage_daily: rolling up the ledger");
  const result = await platform.deps.db.execute(sql`
    insert into ${usageDaily} (
      user_id, box_id, box_name, day, kind, model, trigger, entries, unpriced_entries,
      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, media_calls, cost_usd
    )
    select
      user_id, box_id, max(box_name), (created_at at time zone 'UTC')::date, kind,
      coalesce(model, ''), coalesce(trigger::text, ''), count(*), count(*) filter (where cost_usd is null),
      sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
      count(*) filter (where kind = 'media'), coalesce(sum(cost_usd), 0)
    from ${ledgerEntry}
    where user_id = ${userId}
    group by user_id, box_id, (created_at at time zone 'UTC')::date, kind, coalesce(model, ''),
      coalesce(trigger::text, '')
  `);
  await platform.deps.db.execute(sql`analyze ${ledgerEntry}`);
  await platform.deps.db.execute(sql`analyze ${usageDaily}`);
  return result.rowCount ?? 0;
}

/** The month's totals straight from the ledger's rows: the check of the report, and what the rollup saves. */
function rawLedgerTotals(platform: Platform, userId: string, monthStart: Date) {
  return platform.deps.db.execute<{ entries: number; cost_usd: number; input_tokens: number }>(sql`
    select count(*)::float8 as entries, coalesce(round(sum(cost_usd), 6), 0)::float8 as cost_usd,
      coalesce(sum(input_tokens), 0)::float8 as input_tokens
    from ${ledgerEntry}
    where user_id = ${userId} and created_at >= ${monthStart.toISOString()}::timestamptz
  `);
}

export interface MonthReportResult {
  /** The 31 UTC days ending today, so the month is whole whatever the date. */
  from: string;
  to: string;
  ledgerEntries: number;
  usageDailyRows: number;
  seedSeconds: number;
  /** The report's totals equal the same month summed from the raw ledger. */
  matchesLedger: boolean;
  totals: {
    costUsd: number;
    inputTokens: number;
    mediaCalls: number;
    modelRequests: number;
    unpricedEntries: number;
  };
  /** `GET /rpc/usage?from&to&groupBy=…` for the month through the whole server, concurrency 1. */
  http: Record<(typeof GROUPINGS)[number], Percentiles & { rows: number }>;
  /** The floor of the same stack: `GET /rpc/box` (an authenticated oRPC route, a tiny answer). */
  httpFloor: Percentiles;
  /** `usageReport()` in this process, `groupBy=day,box` (no HTTP). */
  service: Percentiles;
  /** What the rollup saves: the month's totals summed from the ledger's million rows. */
  rawLedgerSum: Percentiles;
}

/**
 * (b) The month's usage of a user with 1,000,000 ledger entries: the entries and their rollup are
 * made in Postgres, then `/rpc/usage` is loaded per grouping from the shared load client.
 */
export async function measureMonthReport({
  platform,
  userId,
  cookie,
  signal,
}: {
  platform: Platform;
  userId: string;
  cookie: string;
  signal: AbortSignal;
}): Promise<MonthReportResult> {
  // A whole month of days whatever today's date: the 31 UTC days ending today.
  const now = new Date();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 30));
  const from = monthStart.toISOString().slice(0, 10);
  const to = now.toISOString().slice(0, 10);
  const seedBegin = performance.now();
  await insertLedger(platform, userId, monthStart, now);
  const usageDailyRows = await rollUp(platform, userId);
  const seedSeconds = roundMs((performance.now() - seedBegin) / 1000);
  log(`seeded ${ENTRIES} entries and ${usageDailyRows} rollup rows in ${seedSeconds} s`);

  const report = await usageReport({ deps: platform.deps, userId, query: { from, to, groupBy: ["day"] } });
  const [raw] = (await rawLedgerTotals(platform, userId, monthStart)).rows;
  const totals = report.totals;
  const matchesLedger =
    raw !== undefined &&
    raw.entries === ENTRIES &&
    raw.cost_usd === totals.costUsd &&
    raw.input_tokens === totals.inputTokens &&
    totals.modelRequests + totals.mediaCalls === ENTRIES;

  const headers = { cookie, origin: platform.publicUrl };
  const load = async (path: string) => {
    await runLoad({
      url: `${platform.url}${path}`,
      headers,
      requests: WARMUP_REQUESTS,
      concurrency: 1,
      timeLimitMs: RUN_TIME_LIMIT_MS,
      signal,
    });
    const run = await runLoad({
      url: `${platform.url}${path}`,
      headers,
      requests: REQUESTS,
      concurrency: 1,
      timeLimitMs: RUN_TIME_LIMIT_MS,
      signal,
    });
    if (run.errors > 0) {
      throw new Error(`GET ${path}: ${run.errors} failed requests, first: ${run.firstError}`);
    }
    return run.latenciesMs;
  };
  log(`GET /rpc/box (floor): ${REQUESTS} requests`);
  const httpFloor = percentiles(await load("/rpc/box"));
  const http = {} as MonthReportResult["http"];
  for (const groupBy of GROUPINGS) {
    log(`GET /rpc/usage?groupBy=${groupBy}: ${REQUESTS} requests`);
    const query = { from, to, groupBy: groupBy.split(",") as UsageReportQuery["groupBy"] };
    const rows = (await usageReport({ deps: platform.deps, userId, query })).rows.length;
    http[groupBy] = {
      ...percentiles(await load(`/rpc/usage?from=${from}&to=${to}&groupBy=${groupBy}`)),
      rows,
    };
  }
  log(`usageReport(): ${SERVICE_CALLS} calls in process`);
  const service = percentiles(
    await timeEach(SERVICE_CALLS, () =>
      usageReport({ deps: platform.deps, userId, query: { from, to, groupBy: ["day", "box"] } }),
    ),
  );
  log(`the raw ledger sum: ${RAW_LEDGER_QUERIES} queries`);
  const rawLedgerSum = percentiles(
    await timeEach(RAW_LEDGER_QUERIES, () => rawLedgerTotals(platform, userId, monthStart)),
  );
  return {
    from,
    to,
    ledgerEntries: ENTRIES,
    usageDailyRows,
    seedSeconds,
    matchesLedger,
    totals: {
      costUsd: totals.costUsd,
      inputTokens: totals.inputTokens,
      mediaCalls: totals.mediaCalls,
      modelRequests: totals.modelRequests,
      unpricedEntries: totals.unpricedEntries,
    },
    http,
    httpFloor,
    service,
    rawLedgerSum,
  };
}
