import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

export interface GeneratedSecrets {
  /** better-auth session secret: 32 random bytes, base64url. */
  BETTER_AUTH_SECRET: string;
  /** AES-256-GCM key for secrets at rest: 32 random bytes, base64. */
  ENCRYPTION_KEY: string;
  /** Bearer token between the platform and sprites-local: 32 random bytes, hex. */
  SPRITES_LOCAL_TOKEN: string;
}

const generators: Record<keyof GeneratedSecrets, () => string> = {
  BETTER_AUTH_SECRET: () => randomBytes(32).toString("base64url"),
  ENCRYPTION_KEY: () => randomBytes(32).toString("base64"),
  SPRITES_LOCAL_TOKEN: () => randomBytes(32).toString("hex"),
};

export const SECRETS_FILE_NAME = "secrets.json";

/**
 * Reads `<dataDir>/secrets.json`, generating and persisting whichever secret is missing, so a
 * local install keeps the same session secret and encryption key from one start to the next.
 * The file is owner-only (0600). An unreadable file is an error, never silently replaced:
 * a new ENCRYPTION_KEY would make every stored secret undecryptable.
 */
export async function loadOrCreateSecrets(dataDir: string): Promise<GeneratedSecrets> {
  const file = path.join(dataDir, SECRETS_FILE_NAME);
  await mkdir(dataDir, { recursive: true });

  let stored: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error("expected a JSON object");
    }
    stored = parsed as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new Error(
        `${file} cannot be read (${(error as Error).message}). Fix or restore it; deleting it generates new ` +
          "secrets, which signs everyone out and makes secrets stored with the old ENCRYPTION_KEY unreadable.",
      );
    }
  }

  const secrets = {} as GeneratedSecrets;
  let changed = false;
  for (const name of Object.keys(generators) as (keyof GeneratedSecrets)[]) {
    const value = stored[name];
    if (typeof value === "string" && value.length > 0) {
      secrets[name] = value;
    } else {
      secrets[name] = generators[name]();
      changed = true;
    }
  }

  if (changed) {
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ ...stored, ...secrets }, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, file);
  }
  await chmod(file, 0o600);
  return secrets;
}
