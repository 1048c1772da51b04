import type { box } from "@vps-claude/db";
import { decryptSecret } from "@vps-claude/shared";
import type { ApiDeps } from "../../deps";
import { accessPasswordAad } from "../deploy/deploy-step-work";

type BoxRow = typeof box.$inferSelect;

/** The owner's login password for the box, set by the Enable access step; null before it ran. */
export function getBoxAccess({ deps, target }: { deps: ApiDeps; target: BoxRow }): {
  password: string | null;
} {
  return {
    password: target.accessPassword
      ? decryptSecret(deps.keyring, target.accessPassword, accessPasswordAad(target.id))
      : null,
  };
}
