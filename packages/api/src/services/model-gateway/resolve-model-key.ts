import { userCredential } from "@vps-claude/db";
import { decryptSecret } from "@vps-claude/shared";
import { and, eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";

/** The credential name a user stores their own Anthropic key under. */
export const OWNER_MODEL_KEY = "ANTHROPIC_API_KEY";

export type ModelKeySource = "user" | "platform";

export interface ModelKey {
  apiKey: string;
  source: ModelKeySource;
}

/** The key that pays for a box's model requests: the owner's own credential, else the platform's. */
export async function resolveModelKey({
  deps,
  userId,
  platformApiKey,
}: {
  deps: Pick<ApiDeps, "db" | "keyring">;
  userId: string;
  platformApiKey: string | undefined;
}): Promise<ModelKey | null> {
  const [row] = await deps.db
    .select({ id: userCredential.id, value: userCredential.value })
    .from(userCredential)
    .where(and(eq(userCredential.userId, userId), eq(userCredential.key, OWNER_MODEL_KEY)))
    .limit(1);
  if (row) {
    return { apiKey: decryptSecret(deps.keyring, row.value, `user_credential:${row.id}`), source: "user" };
  }
  return platformApiKey ? { apiKey: platformApiKey, source: "platform" } : null;
}
