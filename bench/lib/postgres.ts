import { randomBytes } from "node:crypto";
import { migrateDatabase } from "@vps-claude/db";
import pg from "pg";

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
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

/** A new, migrated database beside the one `adminUrl` names, so a run never touches existing data. */
export async function createScratchDatabase(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, (client) => client.query(`create database "${name}"`));
  const url = withDatabase(adminUrl, name);
  const drop = () =>
    withAdmin(adminUrl, async (client) => {
      await client.query(`drop database if exists "${name}" with (force)`);
    });
  try {
    await migrateDatabase(url);
  } catch (err) {
    await drop().catch(() => {});
    throw err;
  }
  return { name, url, drop };
}
