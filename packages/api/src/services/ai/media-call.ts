import { type AiCapability, AiNotConfiguredError, type MediaFile, type Usage } from "@vps-claude/ai";
import { aiUsage, type box } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { and, count, eq, gt } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { alertAfterSpend } from "../usage/budget-alerts";
import { mediaModelName, priceOf } from "../usage/prices";
import { recordLedgerEntries } from "../usage/record-ledger";

export type BoxRow = typeof box.$inferSelect;

/** What every /box/ai route answers: the files travel back as base64 so box-agent can write them in the box. */
export interface MediaResult {
  provider: string;
  files: { name: string; mimeType: string; base64: string }[];
  text?: string;
  costUsd: number;
  /** Providers that failed before `provider` served the call. */
  fallbackFrom: { provider: string; reason: string }[];
}

/** Refuses a call once the box has used its hourly budget of successful media calls. */
export async function assertWithinAiBudget(deps: ApiDeps, target: BoxRow): Promise<void> {
  const hourAgo = new Date(Date.now() - 3_600_000);
  const [recent] = await deps.db
    .select({ n: count() })
    .from(aiUsage)
    .where(and(eq(aiUsage.boxId, target.id), gt(aiUsage.createdAt, hourAgo)));
  if ((recent?.n ?? 0) >= deps.ai.callsPerHour) {
    throw new ServiceError(
      "TOO_MANY_REQUESTS",
      `this box has made ${deps.ai.callsPerHour} media calls in the last hour, its limit; try again later`,
    );
  }
}

/**
 * Runs a provider call; "nothing configured" becomes a 503 that names the variables to set. When every
 * provider failed, AiProvidersFailedError goes up as is (the /ai router answers it with 502).
 */
export async function callProviders<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AiNotConfiguredError) {
      throw new ServiceError("SERVICE_UNAVAILABLE", err.message, { variables: err.variables });
    }
    throw err;
  }
}

/** What `x-vps-run-id` may look like; anything else is not a run id and is dropped. */
const RUN_ID = /^[\w.:-]{1,100}$/;

/** The run a media call claims to belong to (box-agent's MCP tools send it); the ledger checks it is the box's. */
export function claimedRunIdOf(header: string | null | undefined): string | null {
  const value = header?.trim();
  return value && RUN_ID.test(value) ? value : null;
}

export interface RecordedMediaCall {
  /** The ai_usage row's id; it also names the stored files. */
  usageId: string;
  /** By the price table; the provider client's own estimate only when the table has no price for it. */
  costUsd: number;
}

/**
 * One ai_usage row per successful call, billed to the box's owner, and its ledger entry and
 * usage_daily sums, in one transaction. The cost is the price table's (`services/usage/prices.ts`).
 */
export async function recordMediaCall({
  deps,
  target,
  capability,
  served,
  claimedRunId,
}: {
  deps: ApiDeps;
  target: BoxRow;
  capability: AiCapability;
  /** What the provider client said it consumed, and the model that served it. */
  served: { usage: Usage; model: string };
  claimedRunId: string | null;
}): Promise<RecordedMediaCall> {
  const { usage } = served;
  const model = mediaModelName(served.model);
  const price = priceOf(
    { kind: "media", provider: usage.provider, model, capability, units: usage.units, unit: usage.unit },
    deps.logger,
  );
  const usageId = newId("aiUsage");
  // ai_usage.cost_usd cannot be null; the ledger keeps the unknown price as null.
  const costUsd = price.costUsd ?? usage.costUsd;
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(aiUsage)
      .values({
        id: usageId,
        userId: target.userId,
        boxId: target.id,
        provider: usage.provider,
        capability,
        units: usage.units,
        unit: usage.unit,
        costUsd,
      })
      .returning({ createdAt: aiUsage.createdAt });
    await recordLedgerEntries(tx, [
      {
        userId: target.userId,
        boxId: target.id,
        boxName: target.name,
        claimedRunId,
        kind: "media",
        provider: usage.provider,
        model,
        capability,
        units: usage.units,
        unit: usage.unit,
        ...price,
        sourceId: usageId,
        createdAt: row?.createdAt ?? new Date(),
      },
    ]);
  });
  alertAfterSpend(deps, [{ userId: target.userId, boxId: target.id }]);
  return { usageId, costUsd };
}

/** Keeps generated media under `media/<boxId>/<usageId>[-n].<ext>` and returns them for the box. */
export async function storeMedia(
  deps: ApiDeps,
  target: BoxRow,
  usageId: string,
  files: MediaFile[],
): Promise<MediaResult["files"]> {
  return Promise.all(
    files.map(async (file, index) => {
      const name = `${files.length > 1 ? `${usageId}-${index + 1}` : usageId}.${file.extension}`;
      await deps.storage.put(`media/${target.id}/${name}`, file.bytes);
      return { name, mimeType: file.mimeType, base64: file.bytes.toString("base64") };
    }),
  );
}

export function logFallback(deps: ApiDeps, target: BoxRow, capability: AiCapability, result: MediaResult) {
  if (result.fallbackFrom.length > 0) {
    deps.logger.warn(
      { boxId: target.id, capability, provider: result.provider, failures: result.fallbackFrom },
      "media call served by a fallback provider",
    );
  }
}
