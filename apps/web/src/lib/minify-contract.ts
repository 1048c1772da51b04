import { minifyContractRouter } from "@orpc/contract";
import { userContract } from "@vps-claude/contract";

/** The user contract as the committed `user-contract.json` holds it (routes only, no schemas). */
export function minifiedUserContract(): string {
  return `${JSON.stringify(minifyContractRouter(userContract), null, 2)}\n`;
}
