import { rotateEncryptionKey } from "@vps-claude/api";
import { createDatabase } from "@vps-claude/db";
import { createKeyring } from "@vps-claude/shared";
import { z } from "zod";

const USAGE = `Re-encrypts every secret at rest (credentials, secret env vars, box tokens, access passwords)
under the current key.

  1. Generate a new key:            openssl rand -base64 32
  2. Set ENCRYPTION_KEY=<new key> and ENCRYPTION_KEYS_PREVIOUS=<old key> for the server and this command.
  3. Run:                           npm run rotate-key
  4. When it reports success, remove ENCRYPTION_KEYS_PREVIOUS.

Safe to run again: rows already under the current key are left as they are.`;

const env = z
  .object({
    DATABASE_URL: z.string().min(1),
    ENCRYPTION_KEY: z.string().min(1),
    ENCRYPTION_KEYS_PREVIOUS: z.string().default(""),
  })
  .safeParse(process.env);

async function main() {
  if (process.argv.includes("--help") || !env.success) {
    process.stdout.write(`${USAGE}\n`);
    if (!env.success) {
      process.stderr.write(
        `\nMissing: ${env.error.issues.map((issue) => issue.path.join(".")).join(", ")}\n`,
      );
      process.exit(2);
    }
    return;
  }
  const previous = env.data.ENCRYPTION_KEYS_PREVIOUS.split(",")
    .map((key) => key.trim())
    .filter(Boolean);
  const keyring = createKeyring(env.data.ENCRYPTION_KEY, previous);
  const database = createDatabase({ url: env.data.DATABASE_URL, max: 2 });
  try {
    const report = await rotateEncryptionKey({ db: database.db, keyring });
    process.stdout.write(`${JSON.stringify({ currentKeyId: keyring.current.id, ...report })}\n`);
  } finally {
    await database.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`rotate-key failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
