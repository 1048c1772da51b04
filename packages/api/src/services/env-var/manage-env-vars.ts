import { boxEnvVar } from "@vps-claude/db";
import { decryptSecret, encryptSecret, maskSecret, newId } from "@vps-claude/shared";
import { and, count, eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { isUniqueViolation, notFound, ServiceError } from "../../errors";

export const MAX_ENV_VARS_PER_BOX = 200;

export type EnvVarType = "plain" | "secret";

export interface EnvVarDto {
  key: string;
  type: EnvVarType;
  /** The value for `plain`; null for `secret` (see `maskedValue`). */
  value: string | null;
  maskedValue: string | null;
  createdAt: Date;
  updatedAt: Date;
}

type EnvVarRow = typeof boxEnvVar.$inferSelect;

const aad = (id: string) => `box_env_var:${id}`;

function storedValue(deps: ApiDeps, id: string, type: EnvVarType, value: string) {
  return type === "secret" ? encryptSecret(deps.keyring, value, aad(id)) : value;
}

function toDto(deps: ApiDeps, row: EnvVarRow): EnvVarDto {
  const secret = row.type === "secret";
  return {
    key: row.key,
    type: row.type,
    value: secret ? null : row.value,
    maskedValue: secret ? maskSecret(decryptSecret(deps.keyring, row.value, aad(row.id))) : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function listEnvVars({ deps, boxId }: { deps: ApiDeps; boxId: string }) {
  const rows = await deps.db
    .select()
    .from(boxEnvVar)
    .where(eq(boxEnvVar.boxId, boxId))
    .orderBy(boxEnvVar.key);
  return rows.map((row) => toDto(deps, row));
}

export async function createEnvVar({
  deps,
  boxId,
  key,
  value,
  type,
}: {
  deps: ApiDeps;
  boxId: string;
  key: string;
  value: string;
  type: EnvVarType;
}) {
  const [existing] = await deps.db.select({ n: count() }).from(boxEnvVar).where(eq(boxEnvVar.boxId, boxId));
  if ((existing?.n ?? 0) >= MAX_ENV_VARS_PER_BOX) {
    throw new ServiceError(
      "FORBIDDEN",
      `a box may have at most ${MAX_ENV_VARS_PER_BOX} env vars; delete one first`,
    );
  }
  const id = newId("envVar");
  try {
    const [row] = await deps.db
      .insert(boxEnvVar)
      .values({ id, boxId, key, type, value: storedValue(deps, id, type, value) })
      .returning();
    if (!row) {
      throw new Error("insert returned no row");
    }
    return toDto(deps, row);
  } catch (err) {
    if (isUniqueViolation(err, "box_env_var_box_id_key_idx")) {
      throw new ServiceError("CONFLICT", `env var '${key}' already exists on this box; update it instead`);
    }
    throw err;
  }
}

export async function updateEnvVar({
  deps,
  boxId,
  key,
  value,
  type,
}: {
  deps: ApiDeps;
  boxId: string;
  key: string;
  value: string;
  type?: EnvVarType;
}) {
  const [current] = await deps.db
    .select()
    .from(boxEnvVar)
    .where(and(eq(boxEnvVar.boxId, boxId), eq(boxEnvVar.key, key)))
    .limit(1);
  if (!current) {
    throw notFound("env var", key);
  }
  const nextType = type ?? current.type;
  const [row] = await deps.db
    .update(boxEnvVar)
    .set({ type: nextType, value: storedValue(deps, current.id, nextType, value), updatedAt: new Date() })
    .where(eq(boxEnvVar.id, current.id))
    .returning();
  if (!row) {
    throw notFound("env var", key);
  }
  return toDto(deps, row);
}

export async function deleteEnvVar({ deps, boxId, key }: { deps: ApiDeps; boxId: string; key: string }) {
  const deleted = await deps.db
    .delete(boxEnvVar)
    .where(and(eq(boxEnvVar.boxId, boxId), eq(boxEnvVar.key, key)))
    .returning({ key: boxEnvVar.key });
  if (deleted.length === 0) {
    throw notFound("env var", key);
  }
  return { key, deleted: true as const };
}

/** Decrypted env vars for the deploy pipeline; never returned to a client. */
export async function readEnvVarValues({
  deps,
  boxId,
}: {
  deps: Pick<ApiDeps, "db" | "keyring">;
  boxId: string;
}) {
  const rows = await deps.db.select().from(boxEnvVar).where(eq(boxEnvVar.boxId, boxId));
  return Object.fromEntries(
    rows.map((row) => [
      row.key,
      row.type === "secret" ? decryptSecret(deps.keyring, row.value, aad(row.id)) : row.value,
    ]),
  );
}
