import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { MIGRATIONS_FOLDER, migrateDatabase } from "@vps-claude/db";
import pg from "pg";

/** Any advisory-lock key held while a template is created; the same in every process that clones one. */
const TEMPLATE_LOCK = 7311002;

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export function requireEnv(name: "DATABASE_URL" | "REDIS_URL"): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run tests through 'npm test' (its global setup provides it), or export it (a Postgres role that may CREATE DATABASE, a Redis)`,
    );
  }
  return value;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function migrationsHash(): string {
  const hash = createHash("sha256");
  for (const file of readdirSync(MIGRATIONS_FOLDER).sort()) {
    if (file.endsWith(".sql")) {
      hash.update(readFileSync(`${MIGRATIONS_FOLDER}/${file}`));
    }
  }
  return hash.digest("hex").slice(0, 12);
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database beside the one `adminUrl` names, cloned from a template that is migrated
 * once per schema version (CREATE DATABASE … TEMPLATE is a file copy: far faster than migrating each time).
 */
export async function createScratchDatabase({
  adminUrl = requireEnv("DATABASE_URL"),
  prefix = "vps_test",
}: {
  adminUrl?: string;
  prefix?: string;
} = {}): Promise<ScratchDatabase> {
  const template = `vps_template_${migrationsHash()}`;
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, async (admin) => {
    await admin.query("select pg_advisory_lock($1)", [TEMPLATE_LOCK]);
    try {
      const exists = await admin.query("select 1 from pg_database where datname = $1", [template]);
      if (exists.rowCount === 0) {
        await admin.query(`create database "${template}"`);
        try {
          await migrateDatabase(withDatabase(adminUrl, template));
        } catch (error) {
          // A half-migrated template would poison every later clone.
          await admin.query(`drop database if exists "${template}" with (force)`);
          throw error;
        }
      }
      await admin.query(`create database "${name}" template "${template}"`);
    } finally {
      await admin.query("select pg_advisory_unlock($1)", [TEMPLATE_LOCK]).catch(() => {});
    }
  });
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () =>
      withAdmin(adminUrl, async (client) => {
        await client.query(`drop database if exists "${name}" with (force)`);
      }),
  };
}
