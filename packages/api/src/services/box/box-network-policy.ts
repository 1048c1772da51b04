import { domainToASCII } from "node:url";
import { type BoxNetworkPolicy, box } from "@vps-claude/db";
import { type NetworkPolicyRule, type SpritesClient, SpritesError } from "@vps-claude/sprites";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";

type BoxRow = typeof box.$inferSelect;

export const NETWORK_POLICY_MODES = ["internet", "allowlist", "platform"] as const;
export const MAX_POLICY_DOMAINS = 200;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * One allowlist entry as the Sprites policy takes it: a host name or `*.suffix`, lowercased,
 * internationalized names in their ASCII (punycode) form. Returns the reason when it is not one.
 */
export function normalizeDomain(raw: string): { domain: string } | { error: string } {
  const input = raw.trim();
  const shown = `'${input.slice(0, 100)}'`;
  if (input === "") {
    return { error: "a domain is empty" };
  }
  if (input.includes("://")) {
    return { error: `${shown} has a scheme: give the host name only, e.g. 'example.com'` };
  }
  if (input.includes("/") || input.includes("?") || input.includes("#")) {
    return { error: `${shown} has a path: give the host name only, e.g. 'example.com'` };
  }
  if (input.startsWith("[") || (input.match(/:/g)?.length ?? 0) > 1) {
    return { error: `${shown} is an IP address: rules are by domain name` };
  }
  if (input.includes(":")) {
    return { error: `${shown} has a port: rules are by domain name and cover every port` };
  }
  if (input.includes("@")) {
    return { error: `${shown} is not a domain name (it contains '@')` };
  }
  if (input === "*") {
    return { error: "'*' allows everything: use mode 'internet' instead of an allowlist entry" };
  }
  const wildcard = input.startsWith("*.");
  const name = (wildcard ? input.slice(2) : input).replace(/\.$/, "");
  if (name.includes("*")) {
    return { error: `${shown}: a wildcard is only allowed as a leading '*.', e.g. '*.example.com'` };
  }
  const ascii = domainToASCII(name.toLowerCase());
  if (ascii === "") {
    return { error: `${shown} is not a valid domain name` };
  }
  if (IPV4.test(ascii)) {
    return { error: `${shown} is an IP address: rules are by domain name` };
  }
  const labels = ascii.split(".");
  if (ascii.length > 253 || !labels.every((label) => LABEL.test(label))) {
    return {
      error: `${shown} is not a valid domain name: labels are 1–63 letters, digits or '-', separated by dots`,
    };
  }
  if (labels.length < 2 && !wildcard) {
    return { error: `${shown} is not a full domain name: give e.g. 'example.com'` };
  }
  return { domain: wildcard ? `*.${ascii}` : ascii };
}

/** Normalizes and dedupes (first occurrence kept); every problem is reported, not only the first. */
export function normalizeDomains(raw: readonly string[]): { domains: string[] } | { errors: string[] } {
  const errors: string[] = [];
  const domains: string[] = [];
  for (const entry of raw) {
    const result = normalizeDomain(entry);
    if ("error" in result) {
      errors.push(result.error);
    } else if (!domains.includes(result.domain)) {
      domains.push(result.domain);
    }
  }
  if (domains.length > MAX_POLICY_DOMAINS) {
    errors.push(`at most ${MAX_POLICY_DOMAINS} domains are allowed (got ${domains.length})`);
  }
  return errors.length > 0 ? { errors } : { domains };
}

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
