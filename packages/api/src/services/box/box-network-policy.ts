import { type BoxNetworkPolicy, box } from "@vps-claude/db";
import { type NetworkPolicyRule, type SpritesClient, SpritesError } from "@vps-claude/sprites";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";

type BoxRow = typeof box.$inferSelect;

/**
 * The Sprites rules for a policy (first match wins, no match allows). Private and local ranges are
 * refused by the sandbox in every mode, so "internet" needs no rule. `alwaysAllowed` keeps the
 * platform's box API reachable where the sandbox does not forward it by itself (Fly).
 */
export function networkPolicyRules(
  policy: BoxNetworkPolicy,
  alwaysAllowed: readonly string[],
): NetworkPolicyRule[] {
  if (policy.mode === "internet") {
    return [];
  }
  const allowed = policy.mode === "allowlist" ? [...alwaysAllowed, ...policy.domains] : [...alwaysAllowed];
  return [
    ...[...new Set(allowed)].map((domain) => ({ action: "allow" as const, domain })),
    { action: "deny", domain: "*" },
  ];
}

/** Puts the box's stored policy on its sprite; the same rules twice change nothing (safe at every deploy). */
export async function applyNetworkPolicy({
  sprites,
  spriteName,
  policy,
  alwaysAllowed,
}: {
  sprites: SpritesClient;
  spriteName: string;
  policy: BoxNetworkPolicy;
  alwaysAllowed: readonly string[];
}): Promise<NetworkPolicyRule[]> {
  const rules = networkPolicyRules(policy, alwaysAllowed);
  await sprites.setNetworkPolicy(spriteName, rules);
  return rules;
}

export function getBoxNetworkPolicy(target: BoxRow): BoxNetworkPolicy {
  return { mode: target.networkPolicy.mode, domains: [...target.networkPolicy.domains] };
}

/**
 * Stores the owner's policy, then applies it to the box's sandbox when there is one (a box without
 * one gets it from its deploy). The stored policy is the truth: a redeploy puts it back.
 */
export async function updateBoxNetworkPolicy({
  deps,
  target,
  policy,
}: {
  deps: ApiDeps;
  target: BoxRow;
  policy: BoxNetworkPolicy;
}): Promise<BoxNetworkPolicy> {
  const stored: BoxNetworkPolicy = { mode: policy.mode, domains: [...policy.domains] };
  await deps.db.update(box).set({ networkPolicy: stored }).where(eq(box.id, target.id));
  if (!target.spriteName || target.status === "deleting") {
    return stored;
  }
  try {
    await applyNetworkPolicy({
      sprites: deps.sprites,
      spriteName: target.spriteName,
      policy: stored,
      alwaysAllowed: deps.config.platformEgressDomains,
    });
  } catch (error) {
    // Mid-deploy the sandbox may not exist yet; CreateSprite applies the stored policy when it makes it.
    const deploying = target.status === "pending" || target.status === "deploying";
    if (deploying && error instanceof SpritesError && error.code === "not_found") {
      return stored;
    }
    deps.logger.warn({ err: error, boxId: target.id }, "network policy saved but not applied");
    throw new ServiceError(
      "SERVICE_UNAVAILABLE",
      `the network policy is saved but could not be applied to the box's sandbox yet (${error instanceof Error ? error.message : String(error)}); try again, or redeploy the box to apply it`,
    );
  }
  return stored;
}
