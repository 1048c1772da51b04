import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { createAuth, createUserAccount } from "@vps-claude/auth";
import { createDatabase } from "@vps-claude/db";
import { z } from "zod";

const USAGE = `Creates an account, for platforms that run with SIGNUP=closed (works with open sign-up too).

  DATABASE_URL=postgres://… npm run create-user -- --email ada@example.com --password '…' [--name Ada]

Without --password the password is read from standard input (keeps it out of shell history).
The password follows the sign-up rules: 8 to 128 characters.`;

const env = z.object({ DATABASE_URL: z.string().min(1) }).safeParse(process.env);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

async function main() {
  const { values } = parseArgs({
    options: {
      email: { type: "string" },
      password: { type: "string" },
      name: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help || !env.success || !values.email) {
    process.stdout.write(`${USAGE}\n`);
    if (!env.success || !values.email) {
      const missing = [!env.success && "DATABASE_URL", !values.email && "--email"].filter(Boolean);
      process.stderr.write(`\nMissing: ${missing.join(", ")}\n`);
      process.exit(2);
    }
    return;
  }
  const password = values.password ?? (await readStdin());
  const database = createDatabase({ url: env.data.DATABASE_URL, max: 2 });
  try {
    // Sign-up's own session is revoked at once, so no secret of the running platform is needed.
    const auth = createAuth({
      db: database.db,
      secret: randomBytes(32).toString("base64url"),
      baseURL: process.env.PUBLIC_URL || "http://localhost:33001",
      rateLimit: { enabled: false },
    });
    const account = await createUserAccount(auth, {
      email: values.email,
      password,
      name: values.name ?? values.email.split("@")[0] ?? values.email,
    });
    process.stdout.write(`${JSON.stringify({ created: { id: account.id, email: account.email } })}\n`);
  } finally {
    await database.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`create-user failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
