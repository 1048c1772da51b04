import { box } from "@vps-claude/db";
import { generateSubdomain, newId } from "@vps-claude/shared";
import { type Platform, seedUserWithBox, startPlatform } from "@vps-claude/testing/platform";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBox, MAX_BOXES_PER_USER } from "./create-box";

let platform: Platform;

beforeAll(async () => {
  // The real deps (keyring, queues, config) the service runs with; no workers, so deploys stay queued.
  platform = await startPlatform();
});

afterAll(async () => {
  await platform?.close();
});

describe("createBox", () => {
  it("derives the subdomain and address from the name, pending its first deploy", async () => {
    const { userId } = await seedUserWithBox(platform.deps.db);
    const created = await createBox({ deps: platform.deps, userId, name: "Ünïcode Box!", skills: [] });
    expect(created.subdomain).toMatch(/^unicode-box-[a-z0-9]{4}$/);
    expect(created.email).toBe(`${created.subdomain}@${platform.config.AGENTS_DOMAIN}`);
    const [row] = await platform.deps.db.select().from(box).where(eq(box.id, created.id));
    expect(row?.status).toBe("pending");
    expect(row?.deployId, "the deploy the box was created with").toBeTruthy();
  });

  it(`refuses the box past ${MAX_BOXES_PER_USER} per user, saying what to do`, async () => {
    const { db } = platform.deps;
    const { userId } = await seedUserWithBox(db);
    const more = Array.from({ length: MAX_BOXES_PER_USER - 1 }, (_, index) => ({
      id: newId("box"),
      userId,
      name: `Box ${index}`,
      subdomain: generateSubdomain(`box ${index}`),
    }));
    await db.insert(box).values(more);
    await expect(
      createBox({ deps: platform.deps, userId, name: "One too many", skills: [] }),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: `a user may own at most ${MAX_BOXES_PER_USER} boxes; delete one first`,
    });
    // Another user is not affected by this one's count.
    const other = await seedUserWithBox(db);
    await expect(
      createBox({ deps: platform.deps, userId: other.userId, name: "Fine", skills: [] }),
    ).resolves.toMatchObject({ name: "Fine" });
  });

  it("refuses an unknown skill before creating anything", async () => {
    const { db } = platform.deps;
    const { userId } = await seedUserWithBox(db);
    await expect(
      createBox({ deps: platform.deps, userId, name: "Skilled", skills: ["no-such-skill"] }),
    ).rejects.toThrow(/no-such-skill/);
    const rows = await db.select().from(box).where(eq(box.userId, userId));
    expect(rows.map((row) => row.name)).toEqual(["Test box"]);
  });
});
