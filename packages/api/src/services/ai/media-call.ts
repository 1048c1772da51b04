import { type AiCapability, AiNotConfiguredError, type MediaFile, type Usage } from "@vps-claude/ai";
import { aiUsage, type box } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { and, count, eq, gt } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";

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

/** One ai_usage row per successful call, billed to the box's owner; its id also names the stored files. */
export async function recordAiUsage(
  deps: ApiDeps,
  target: BoxRow,
  capability: AiCapability,
  usage: Usage,
): Promise<string> {
  const id = newId("aiUsage");
  await deps.db.insert(aiUsage).values({
    id,
    userId: target.userId,
    boxId: target.id,
    provider: usage.provider,
    capability,
    units: usage.units,
    unit: usage.unit,
    costUsd: usage.costUsd,
  });
  return id;
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
