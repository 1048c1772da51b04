import { modelRequest, user } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import { sql } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { priceOf } from "../usage/prices";
import { type LedgerEntryInput, type LedgerWriter, recordLedgerEntries } from "../usage/record-ledger";
import { hasTokens, type ModelUsage } from "./model-usage";
import type { ModelKeySource } from "./resolve-model-key";

export interface ModelRequestRecord {
  /** Chosen when the request arrives, so writing the row again (a retried batch) adds nothing. */
  id: string;
  userId: string;
  boxId: string;
  boxName: string;
  runId: string | null;
  method: string;
  path: string;
  model: string | null;
  streamed: boolean;
  keySource: ModelKeySource;
  /** 0 when the upstream never answered. */
  status: number;
  usage: ModelUsage;
  durationMs: number;
  errorMessage: string | null;
  /** When the response ended (or was cut): the row's and its ledger entry's time. */
  endedAt: Date;
}

/** What the upstream answered and billed: a 2xx, or any answer that reports tokens. Never a request it did not get. */
function isBillable(record: ModelRequestRecord): boolean {
  return record.status > 0 && ((record.status >= 200 && record.status < 300) || hasTokens(record.usage));
}

/** The ledger entries of a batch: one per billable request, priced by the table. */
export function modelLedgerEntries(records: ModelRequestRecord[], logger?: Logger): LedgerEntryInput[] {
  return records.filter(isBillable).map((record) => ({
    userId: record.userId,
    boxId: record.boxId,
    boxName: record.boxName,
    claimedRunId: record.runId,
    kind: "model",
    provider: "anthropic",
    model: record.model,
    capability: null,
    tokens: record.usage,
    ...priceOf({ kind: "model", provider: "anthropic", model: record.model, tokens: record.usage }, logger),
    sourceId: record.id,
    createdAt: record.endedAt,
  }));
}

/**
 * Writes `model_request` rows, one per forwarded request, in one statement whose size does not
 * grow with the batch: one array parameter per column, expanded by `unnest`. A row already written
 * is skipped, as is one whose owner was deleted meanwhile.
 */
async function insertModelRequests(writer: LedgerWriter, records: ModelRequestRecord[]): Promise<void> {
  // sql.param keeps each array one parameter (a bare array would expand into a list).
  const column = <T>(pick: (record: ModelRequestRecord) => T) => sql.param(records.map(pick));
  await writer.execute(sql`
    insert into ${modelRequest} (
      id, user_id, box_id, box_name, run_id, method, path, model, streamed, key_source, status,
      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, duration_ms, error_message,
      created_at
    )
    select r.* from unnest(
      ${column((r) => r.id)}::text[], ${column((r) => r.userId)}::text[],
      ${column((r) => r.boxId)}::text[], ${column((r) => r.boxName)}::text[],
      ${column((r) => r.runId)}::text[], ${column((r) => r.method)}::text[],
      ${column((r) => r.path)}::text[], ${column((r) => r.model)}::text[],
      ${column((r) => r.streamed)}::boolean[], ${column((r) => r.keySource)}::text[],
      ${column((r) => r.status)}::integer[], ${column((r) => r.usage.inputTokens)}::integer[],
      ${column((r) => r.usage.outputTokens)}::integer[], ${column((r) => r.usage.cacheReadTokens)}::integer[],
      ${column((r) => r.usage.cacheWriteTokens)}::integer[],
      ${column((r) => Math.max(0, Math.round(r.durationMs)))}::integer[],
      ${column((r) => r.errorMessage)}::text[], ${column((r) => r.endedAt.toISOString())}::timestamptz[]
    ) as r(
      id, user_id, box_id, box_name, run_id, method, path, model, streamed, key_source, status,
      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, duration_ms, error_message,
      created_at
    )
    where exists (select 1 from ${user} u where u.id = r.user_id)
    on conflict (id) do nothing
  `);
}

/**
 * Writes a batch of finished requests: their `model_request` rows and, unless `ledger` is off (the
 * bench's baseline), their ledger entries and `usage_daily` sums, all in one transaction.
 */
export async function recordModelRequests({
  deps,
  records,
  logger,
  ledger = true,
}: {
  deps: Pick<ApiDeps, "db">;
  records: ModelRequestRecord[];
  /** Where an unpriced model is reported (once per model). */
  logger?: Logger;
  ledger?: boolean;
}): Promise<void> {
  if (records.length === 0) {
    return;
  }
  const entries = ledger ? modelLedgerEntries(records, logger) : [];
  await deps.db.transaction(async (tx) => {
    await insertModelRequests(tx, records);
    await recordLedgerEntries(tx, entries);
  });
}

export interface ModelRequestRecorder {
  /** Queues a finished request's row; it is written within `flushMs`. */
  record(record: ModelRequestRecord): void;
  /** Writes whatever is queued now. */
  flush(): Promise<void>;
}

const MAX_BATCH = 200;
/** A batch that fails (Postgres restarting) is tried this often before its rows are given up, logged. */
const WRITE_ATTEMPTS = 4;
const RETRY_AFTER_MS = 500;

/**
 * Rows are written in small batches shortly after each response ends, off the request path: under
 * load one insert carries many requests instead of each request paying its own round trip. A
 * failed batch is retried whole; its ids make a retry after an unseen commit add nothing.
 */
export function createModelRequestRecorder({
  deps,
  logger,
  flushMs = 25,
  ledger = true,
  onWritten,
}: {
  deps: Pick<ApiDeps, "db">;
  logger: Logger;
  flushMs?: number;
  /** Off only for the bench's baseline: the gateway without the ledger write. */
  ledger?: boolean;
  /** Told of each batch once it is committed (the budget alerts' check). */
  onWritten?: (records: readonly ModelRequestRecord[]) => void;
}): ModelRequestRecorder {
  let queued: ModelRequestRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const write = async (batch: ModelRequestRecord[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await recordModelRequests({ deps, records: batch, logger, ledger });
      } catch (err) {
        if (attempt >= WRITE_ATTEMPTS) {
          logger.error({ err, rows: batch.length, attempts: attempt }, "could not record model requests");
          return;
        }
        logger.warn({ err, rows: batch.length, attempt }, "recording model requests failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS * attempt));
        continue;
      }
      // A failing listener must neither write a committed batch again nor stop the batches after it.
      try {
        onWritten?.(batch);
      } catch (err) {
        logger.error({ err }, "a listener of recorded model requests failed");
      }
      return;
    }
  };

  const flush = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const batch = queued;
    queued = [];
    if (batch.length > 0) {
      writing = writing.then(() => write(batch));
    }
    return writing;
  };

  return {
    record(record) {
      queued.push(record);
      if (queued.length >= MAX_BATCH) {
        void flush();
      } else {
        timer ??= setTimeout(() => void flush(), flushMs);
      }
    },
    flush,
  };
}
