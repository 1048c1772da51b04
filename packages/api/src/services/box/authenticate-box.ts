import { box, boxEmailSettings, type Database } from "@vps-claude/db";
import { constantTimeEqual, decryptSecret, hashBoxToken, type Keyring } from "@vps-claude/shared";
import { eq } from "drizzle-orm";

const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Finds the box a token belongs to: the keyed hash finds the row, then the decrypted token is
 * compared in constant time, so neither a hash collision nor a timing probe lets a token through.
 */
export async function authenticateBox({
  db,
  keyring,
  pepper,
  token,
}: {
  db: Database;
  keyring: Keyring;
  pepper: string;
  token: string | undefined | null;
}) {
  if (!token || !TOKEN_PATTERN.test(token)) {
    return null;
  }
  const [row] = await db
    .select({ box, settingsId: boxEmailSettings.id, agentSecret: boxEmailSettings.agentSecret })
    .from(boxEmailSettings)
    .innerJoin(box, eq(box.id, boxEmailSettings.boxId))
    .where(eq(boxEmailSettings.agentSecretHash, hashBoxToken(token, pepper)))
    .limit(1);
  if (!row) {
    return null;
  }
  const stored = decryptSecret(keyring, row.agentSecret, `box_email_settings:${row.settingsId}`);
  if (!constantTimeEqual(stored, token) || row.box.status === "deleting") {
    return null;
  }
  return row.box;
}

/** The token for server → box-agent calls (and for writing into the box at deploy). */
export async function getBoxToken({ db, keyring, boxId }: { db: Database; keyring: Keyring; boxId: string }) {
  const [row] = await db.select().from(boxEmailSettings).where(eq(boxEmailSettings.boxId, boxId)).limit(1);
  if (!row) {
    return null;
  }
  return decryptSecret(keyring, row.agentSecret, `box_email_settings:${row.id}`);
}
