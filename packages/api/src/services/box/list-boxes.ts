import { box } from "@vps-claude/db";
import { desc, eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { type BoxDto, toBoxDto } from "./box-dto";

export async function listBoxes({ deps, userId }: { deps: ApiDeps; userId: string }): Promise<BoxDto[]> {
  const rows = await deps.db
    .select()
    .from(box)
    .where(eq(box.userId, userId))
    .orderBy(desc(box.createdAt), desc(box.id));
  return rows.map((row) => toBoxDto(row, deps.config.agentsDomain));
}
