import { box, type Database } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";

const STATUSES = ["running", "running", "running", "deploying", "pending", "error"] as const;
const SKILLS = ["browser", "email", "cron", "github", "slack", "pdf"];

/**
 * `count` boxes for one user in a single insert, shaped like real ones: mostly running with a
 * sprite URL, some with skills, a few in error with a message. Creation times are one second apart
 * so the list order is stable.
 */
export async function seedBoxes({ db, userId, count }: { db: Database; userId: string; count: number }) {
  const start = Date.now() - count * 1000;
  const rows = Array.from({ length: count }, (_, index) => {
    const status = STATUSES[index % STATUSES.length] ?? "running";
    const subdomain = `bench-box-${index.toString(36).padStart(4, "0")}-${userId.slice(-6)}`;
    const createdAt = new Date(start + index * 1000);
    return {
      id: newId("box"),
      userId,
      name: `Bench box ${index}`,
      subdomain,
      status,
      errorMessage:
        status === "error" ? "Deploy failed: the sandbox did not answer within 120 s. Redeploy." : null,
      spriteName: status === "running" ? `sprite-${subdomain}` : null,
      spriteUrl: status === "running" ? `https://sprite-${subdomain}.sprites.app` : null,
      skills: SKILLS.slice(0, index % (SKILLS.length + 1)),
      createdAt,
      updatedAt: createdAt,
    };
  });
  await db.insert(box).values(rows);
}
