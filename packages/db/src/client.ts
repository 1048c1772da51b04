import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "./schema/index";

export type Database = NodePgDatabase<typeof schema>;

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function createDatabase({ url, max = 10 }: { url: string; max?: number }): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection emits on the pool; without a listener that would crash the process.
  pool.on("error", () => {});
  survivePostgresRestarts(pool);
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}

/**
 * What a Postgres restart (every connection cut) must not do to a long-lived process: crash it, or
 * leave its pool short of clients for good.
 * - pg-pool listens for errors of idle clients only; a client checked out but between two queries
 *   when its connection is cut emits `error` with no listener, which would crash the process.
 * - drizzle-orm 0.45's `transaction()` runs BEGIN before the try/finally that releases its client
 *   (drizzle-orm#6241, open): a client whose connection dies at BEGIN is never given back, and each
 *   such death costs the pool a slot until `connect()` waits forever. So a client whose connection
 *   ends while it is checked out is given back here, as broken (the pool discards it); the holder's
 *   own release afterwards is a no-op.
 */
function survivePostgresRestarts(pool: pg.Pool): void {
  const checkedOut = new Set<pg.PoolClient>();
  pool.on("acquire", (client) => checkedOut.add(client));
  pool.on("release", (_err, client) => checkedOut.delete(client));
  pool.on("connect", (client) => {
    // Its queries fail with the error; the pool removes it on release (it is no longer queryable).
    client.on("error", () => {});
    client.on("end", () => {
      if (!checkedOut.has(client as pg.PoolClient)) {
        return;
      }
      const held = client as pg.PoolClient;
      checkedOut.delete(held);
      const release = held.release;
      held.release = () => {};
      release(new Error("the connection to Postgres ended while the client was checked out"));
    });
  });
}
