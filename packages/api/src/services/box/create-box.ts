import { box, boxEmailSettings } from "@vps-claude/db";
import { encryptSecret, generateBoxToken, generateSubdomain, hashBoxToken, newId } from "@vps-claude/shared";
import { count, eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { isUniqueViolation, ServiceError } from "../../errors";
import { lockOwnerLimit } from "../limits/owner-lock";
import { assertKnownSkills } from "../skills/skill-catalog";
import { type BoxDto, toBoxDto } from "./box-dto";
import { enqueueDeploy } from "./enqueue-deploy";

export const MAX_BOXES_PER_USER = 1_000;

// Namespace of the per-user lock below (two-int advisory keys: this, then a hash of the user id).

export interface CreateBoxOptions {
  deps: ApiDeps;
  userId: string;
  name: string;
  skills: string[];
}

export async function createBox({ deps, userId, name, skills }: CreateBoxOptions): Promise<BoxDto> {
  await assertKnownSkills(deps.config.skillsDir, skills);
  const boxId = newId("box");
  const deployId = newId("deploy");
  const settingsId = newId("emailSettings");
  const token = generateBoxToken();

  // The 4-character suffix rarely collides; the unique index decides, and we draw again.
  for (let attempt = 0; ; attempt++) {
    try {
      const row = await deps.db.transaction(async (tx) => {
        await lockOwnerLimit(tx, "boxesPerUser", userId);
        const [owned] = await tx.select({ n: count() }).from(box).where(eq(box.userId, userId));
        if ((owned?.n ?? 0) >= MAX_BOXES_PER_USER) {
          throw new ServiceError(
            "FORBIDDEN",
            `a user may own at most ${MAX_BOXES_PER_USER} boxes; delete one first`,
          );
        }
        const [created] = await tx
          .insert(box)
          .values({
            id: boxId,
            userId,
            name,
            subdomain: generateSubdomain(name),
            skills: [...new Set(skills)],
            deployId,
          })
          .returning();
        await tx.insert(boxEmailSettings).values({
          id: settingsId,
          boxId,
          agentSecret: encryptSecret(deps.keyring, token, `box_email_settings:${settingsId}`),
          agentSecretHash: hashBoxToken(token, deps.config.tokenPepper),
        });
        return created;
      });
      if (!row) {
        throw new Error("insert returned no row");
      }
      await enqueueDeploy({ deps, boxId, deployId });
      return toBoxDto(row, deps.config.agentsDomain);
    } catch (err) {
      if (attempt < 5 && isUniqueViolation(err, "box_subdomain_unique")) {
        continue;
      }
      throw err;
    }
  }
}
