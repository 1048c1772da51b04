import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";

/**
 * Secrets at rest: AES-256-GCM with a random 12-byte IV, the key id stored beside the ciphertext so
 * keys can rotate, and AAD binding each ciphertext to its row so a value copied into another row
 * (or column) fails to decrypt instead of silently leaking.
 *
 * Stored form: `v1.<keyId>.<iv b64url>.<ciphertext b64url>.<tag b64url>`
 */
const VERSION = "v1";
/** GCM accepts tags as short as 4 bytes unless told otherwise; a short tag is a forgery shortcut. */
const AUTH_TAG_BYTES = 16;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface Keyring {
  current: EncryptionKey;
  /** Every key that may still decrypt, current included. */
  byId: Map<string, EncryptionKey>;
}

export class DecryptionError extends Error {
  override name = "DecryptionError";
}

export function parseEncryptionKey(base64: string): EncryptionKey {
  const key = Buffer.from(base64.trim(), "base64");
  if (key.length !== 32) {
    throw new Error(`ENCRYPTION_KEY must be 32 bytes encoded as base64 (got ${key.length} bytes)`);
  }
  return { id: keyIdOf(key), key };
}

export function keyIdOf(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

export function generateEncryptionKey(): string {
  return randomBytes(32).toString("base64");
}

export function createKeyring(current: string, previous: string[] = []): Keyring {
  const currentKey = parseEncryptionKey(current);
  const byId = new Map<string, EncryptionKey>([[currentKey.id, currentKey]]);
  for (const old of previous) {
    const parsed = parseEncryptionKey(old);
    byId.set(parsed.id, parsed);
  }
  return { current: currentKey, byId };
}

export function encryptSecret(keyring: Keyring, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyring.current.key, iv, { authTagLength: AUTH_TAG_BYTES });
  cipher.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [
    VERSION,
    keyring.current.id,
    iv.toString("base64url"),
    ciphertext.toString("base64url"),
    tag.toString("base64url"),
  ].join(".");
}

export function encryptedKeyId(stored: string): string | undefined {
  const [version, keyId] = stored.split(".");
  return version === VERSION ? keyId : undefined;
}

export function decryptSecret(keyring: Keyring, stored: string, aad: string): string {
  const [version, keyId, iv, ciphertext, tag, ...rest] = stored.split(".");
  if (version !== VERSION || !keyId || !iv || ciphertext === undefined || !tag || rest.length > 0) {
    throw new DecryptionError("stored secret is not in a known format");
  }
  const key = keyring.byId.get(keyId);
  if (!key) {
    throw new DecryptionError(`stored secret was encrypted with key ${keyId}, which is not configured`);
  }
  const authTag = Buffer.from(tag, "base64url");
  if (authTag.length !== AUTH_TAG_BYTES) {
    throw new DecryptionError(
      `stored secret has a ${authTag.length}-byte authentication tag; AES-GCM tags here are ${AUTH_TAG_BYTES} bytes (truncated or tampered row)`,
    );
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(iv, "base64url"), {
      authTagLength: AUTH_TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  } catch {
    throw new DecryptionError("stored secret failed authentication (wrong key or tampered row)");
  }
}

/** A box token: 32 random bytes as 64 hex chars. */
export function generateBoxToken(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Keyed hash used to find a box by its token without storing the token in a searchable form.
 * Keyed with the auth secret so a database dump alone cannot be used to test guesses offline.
 */
export function hashBoxToken(token: string, pepper: string): string {
  return createHmac("sha256", pepper).update(token).digest("hex");
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    return false;
  }
  return timingSafeEqual(left, right);
}

/** What a list shows instead of a secret: enough to recognise it, never enough to use it. */
export function maskSecret(value: string): string {
  // Short values would give too much away even as a tail.
  if (value.length < 16) {
    return "••••••••";
  }
  return `••••••••${value.slice(-4)}`;
}
