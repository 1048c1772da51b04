import { userCredential } from "@vps-claude/db";
import { decryptSecret, encryptSecret, maskSecret, newId } from "@vps-claude/shared";
import { and, count, eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { isUniqueViolation, notFound, ServiceError } from "../../errors";

export const MAX_CREDENTIALS_PER_USER = 100;

export interface CredentialDto {
  key: string;
  /** Never the value: a mask that helps recognise it. */
  maskedValue: string;
  createdAt: Date;
  updatedAt: Date;
}

const aad = (id: string) => `user_credential:${id}`;

function toDto(deps: ApiDeps, row: typeof userCredential.$inferSelect): CredentialDto {
  return {
    key: row.key,
    maskedValue: maskSecret(decryptSecret(deps.keyring, row.value, aad(row.id))),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function listCredentials({ deps, userId }: { deps: ApiDeps; userId: string }) {
  const rows = await deps.db
    .select()
    .from(userCredential)
    .where(eq(userCredential.userId, userId))
    .orderBy(userCredential.key);
  return rows.map((row) => toDto(deps, row));
}

export async function createCredential({
  deps,
  userId,
  key,
  value,
}: {
  deps: ApiDeps;
  userId: string;
  key: string;
  value: string;
}) {
  const [existing] = await deps.db
    .select({ n: count() })
    .from(userCredential)
    .where(eq(userCredential.userId, userId));
  if ((existing?.n ?? 0) >= MAX_CREDENTIALS_PER_USER) {
    throw new ServiceError(
      "FORBIDDEN",
      `at most ${MAX_CREDENTIALS_PER_USER} credentials per user; delete one first`,
    );
  }
  const id = newId("credential");
  try {
    const [row] = await deps.db
      .insert(userCredential)
      .values({ id, userId, key, value: encryptSecret(deps.keyring, value, aad(id)) })
      .returning();
    if (!row) {
      throw new Error("insert returned no row");
    }
    return toDto(deps, row);
  } catch (err) {
    if (isUniqueViolation(err, "user_credential_user_id_key_idx")) {
      throw new ServiceError("CONFLICT", `credential '${key}' already exists; update it instead`);
    }
    throw err;
  }
}

export async function updateCredential({
  deps,
  userId,
  key,
  value,
}: {
  deps: ApiDeps;
  userId: string;
  key: string;
  value: string;
}) {
  const [current] = await deps.db
    .select()
    .from(userCredential)
    .where(and(eq(userCredential.userId, userId), eq(userCredential.key, key)))
    .limit(1);
  if (!current) {
    throw notFound("credential", key);
  }
  const [row] = await deps.db
    .update(userCredential)
    .set({ value: encryptSecret(deps.keyring, value, aad(current.id)), updatedAt: new Date() })
    .where(eq(userCredential.id, current.id))
    .returning();
  if (!row) {
    throw notFound("credential", key);
  }
  return toDto(deps, row);
}

export async function deleteCredential({
  deps,
  userId,
  key,
}: {
  deps: ApiDeps;
  userId: string;
  key: string;
}) {
  const deleted = await deps.db
    .delete(userCredential)
    .where(and(eq(userCredential.userId, userId), eq(userCredential.key, key)))
    .returning({ key: userCredential.key });
  if (deleted.length === 0) {
    throw notFound("credential", key);
  }
  return { key, deleted: true as const };
}

/** Decrypted credentials for the deploy pipeline; never returned to a client. */
export async function readCredentialValues({
  deps,
  userId,
}: {
  deps: Pick<ApiDeps, "db" | "keyring">;
  userId: string;
}) {
  const rows = await deps.db.select().from(userCredential).where(eq(userCredential.userId, userId));
  return Object.fromEntries(
    rows.map((row) => [row.key, decryptSecret(deps.keyring, row.value, aad(row.id))]),
  );
}
