import { modelRequest } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import { newId } from "@vps-claude/shared";
import { sql } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import type { ModelUsage } from "./model-usage";
import type { ModelKeySource } from "./resolve-model-key";

export interface ModelRequestRecord {
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
}

/**
 * Writes `model_request` rows, one per forwarded request, in one statement whose size does not
 * grow with the batch: one array parameter per column, expanded by `unnest`.
 */
export async function recordModelRequests({
  deps,
  records,
}: {
  deps: Pick<ApiDeps, "db">;
  records: ModelRequestRecord[];
}): Promise<void> {
  if (records.length === 0) {
    return;
  }
  // sql.param keeps each array one parameter (a bare array would expand into a list).
  const column = <T>(pick: (record: ModelRequestRecord) => T) => sql.param(records.map(pick));
  await deps.db.execute(sql`
    insert into ${modelRequest} (
      id, user_id, box_id, box_name, run_id, method, path, model, streamed, key_source, status,
      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, duration_ms, error_message
    )
    select * from unnest(
      ${column(() => newId("modelRequest"))}::text[], ${column((r) => r.userId)}::text[],
      ${column((r) => r.boxId)}::text[], ${column((r) => r.boxName)}::text[],
      ${column((r) => r.runId)}::text[], ${column((r) => r.method)}::text[],
      ${column((r) => r.path)}::text[], ${column((r) => r.model)}::text[],
      ${column((r) => r.streamed)}::boolean[], ${column((r) => r.keySource)}::text[],
      ${column((r) => r.status)}::integer[], ${column((r) => r.usage.inputTokens)}::integer[],
      ${column((r) => r.usage.outputTokens)}::integer[], ${column((r) => r.usage.cacheReadTokens)}::integer[],
      ${column((r) => r.usage.cacheWriteTokens)}::integer[],
      ${column((r) => Math.max(0, Math.round(r.durationMs)))}::integer[],
      ${column((r) => r.errorMessage)}::text[]
    )
  `);
}

export interface ModelRequestRecorder {
  /** Queues a finished request's row; it is written within `flushMs`. */
  record(record: ModelRequestRecord): void;
  /** Writes whatever is queued now. */
  flush(): Promise<void>;
}

const MAX_BATCH = 200;

/**
 * Rows are written in small batches shortly after each response ends, off the request path: under
 * load one insert carries many requests instead of each request paying its own round trip.
 */
export function createModelRequestRecorder({
  deps,
  logger,
  flushMs = 25,
}: {
  deps: Pick<ApiDeps, "db">;
  logger: Logger;
  flushMs?: number;
}): ModelRequestRecorder {
  let queued: ModelRequestRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const flush = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const batch = queued;
    queued = [];
    writing = writing.then(() =>
      recordModelRequests({ deps, records: batch }).catch((err: unknown) => {
        logger.error({ err, rows: batch.length }, "could not record model requests");
      }),
    );
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
