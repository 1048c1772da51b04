import { box, createDatabase, type Database, user } from "@vps-claude/db";
import { generateSubdomain, newId } from "@vps-claude/shared";
import { createScratchDatabase } from "./database";

/** A scratch database opened with the platform's client, for service tests that need no server. */
export async function openScratchDatabase(options?: Parameters<typeof createScratchDatabase>[0]) {
  const scratch = await createScratchDatabase(options);
  const handle = createDatabase({ url: scratch.url, max: 4 });
  return {
    db: handle.db,
    url: scratch.url,
    async close() {
      await handle.close();
      await scratch.drop();
    },
  };
}

/** A user and one box of theirs, as rows (no deploy): the owner every box-scoped service needs. */
export async function seedUserWithBox(db: Database, { boxName = "Test box" }: { boxName?: string } = {}) {
  const userId = newId("user");
  await db.insert(user).values({ id: userId, name: "Test", email: `${userId}@example.com` });
  const [row] = await db
    .insert(box)
    .values({ id: newId("box"), userId, name: boxName, subdomain: generateSubdomain(boxName) })
    .returning();
  if (!row) {
    throw new Error("inserting the box returned no row");
  }
  return { userId, box: row };
}
