import { box, boxEmailSettings, boxEnvVar, type Database, userCredential } from "@vps-claude/db";
import { decryptSecret, encryptedKeyId, encryptSecret, type Keyring } from "@vps-claude/shared";
import { eq, isNotNull } from "drizzle-orm";
import { accessPasswordAad } from "../deploy/deploy-step-work";

export interface RotationReport {
  reencrypted: Record<string, number>;
  alreadyCurrent: number;
}

/**
 * Re-encrypts every secret at rest under the keyring's current key. Rows already under it are left
 * alone, so an interrupted rotation can simply be run again. Each table is rewritten in one
 * transaction: a row is never half-rotated.
 */
export async function rotateEncryptionKey({
  db,
  keyring,
}: {
  db: Database;
  keyring: Keyring;
}): Promise<RotationReport> {
  const report: RotationReport = { reencrypted: {}, alreadyCurrent: 0 };
  const currentId = keyring.current.id;
  const rotate = (stored: string, aad: string) =>
    encryptSecret(keyring, decryptSecret(keyring, stored, aad), aad);
  const needsRotation = (stored: string) => {
    const stale = encryptedKeyId(stored) !== currentId;
    if (!stale) {
      report.alreadyCurrent++;
    }
    return stale;
  };

  await db.transaction(async (tx) => {
    let n = 0;
    for (const row of await tx.select().from(userCredential).for("update")) {
      if (needsRotation(row.value)) {
        const aad = `user_credential:${row.id}`;
        await tx
          .update(userCredential)
          .set({ value: rotate(row.value, aad) })
          .where(eq(userCredential.id, row.id));
        n++;
      }
    }
    report.reencrypted.user_credential = n;
  });

  await db.transaction(async (tx) => {
    let n = 0;
    for (const row of await tx.select().from(boxEnvVar).where(eq(boxEnvVar.type, "secret")).for("update")) {
      if (needsRotation(row.value)) {
        const aad = `box_env_var:${row.id}`;
        await tx
          .update(boxEnvVar)
          .set({ value: rotate(row.value, aad) })
          .where(eq(boxEnvVar.id, row.id));
        n++;
      }
    }
    report.reencrypted.box_env_var = n;
  });

  await db.transaction(async (tx) => {
    let n = 0;
    for (const row of await tx.select().from(boxEmailSettings).for("update")) {
      if (needsRotation(row.agentSecret)) {
        const aad = `box_email_settings:${row.id}`;
        await tx
          .update(boxEmailSettings)
          .set({ agentSecret: rotate(row.agentSecret, aad) })
          .where(eq(boxEmailSettings.id, row.id));
        n++;
      }
    }
    report.reencrypted.box_email_settings = n;
  });

  await db.transaction(async (tx) => {
    let n = 0;
    for (const row of await tx.select().from(box).where(isNotNull(box.accessPassword)).for("update")) {
      if (row.accessPassword && needsRotation(row.accessPassword)) {
        const aad = accessPasswordAad(row.id);
        await tx
          .update(box)
          .set({ accessPassword: rotate(row.accessPassword, aad) })
          .where(eq(box.id, row.id));
        n++;
      }
    }
    report.reencrypted.box = n;
  });

  return report;
}
