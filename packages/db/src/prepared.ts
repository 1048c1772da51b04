import type { Database } from "./client";

/**
 * One prepared statement per database handle, built on first use. For hot paths: drizzle builds a
 * query's SQL on every call, which costs about twice what running a small one does, and a prepared
 * statement also lets Postgres skip planning it again on each connection.
 */
export function preparedPerDatabase<Query>(prepare: (db: Database) => Query): (db: Database) => Query {
  const prepared = new WeakMap<Database, Query>();
  return (db) => {
    let query = prepared.get(db);
    if (!query) {
      query = prepare(db);
      prepared.set(db, query);
    }
    return query;
  };
}
