import type { boxRun, Database } from "@vps-claude/db";

export type RunRow = typeof boxRun.$inferSelect;
/** A database handle or the transaction a run's completion runs in. */
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0] | Database;
