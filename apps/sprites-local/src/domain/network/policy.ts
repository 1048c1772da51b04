/**
 * Egress rules by domain, the Sprites `/policy/network` shape:
 * `{ "rules": [ { "action": "allow" | "deny", "domain": "github.com" | "*.npmjs.org" | "*" } ] }`.
 *
 * How sprites-local decides, for the host name a sprite asks its egress proxy for:
 * - rules are tried in order and the first one whose domain matches decides;
 * - `github.com` matches that name only; `*.npmjs.org` matches every name below npmjs.org
 *   (`registry.npmjs.org`, `a.b.npmjs.org`) but not `npmjs.org` itself; `*` matches everything;
 * - no matching rule allows (so `[]`, the default, is the whole public internet);
 * - an allowlist is its allow rules followed by `{ "action": "deny", "domain": "*" }`;
 * - a request for a bare IP address matches only `*`;
 * - names are compared lowercase, without a trailing dot.
 * Whatever the rules say, the proxy never connects to loopback, private, CGNAT, link-local
 * (metadata), multicast, ULA or this host's own addresses (see address-policy.ts).
 *
 * Platform mapping: `internet` → `[]`; `allowlist` with domains D → `D.map(allow) + deny *`;
 * `platform` (SERVER_URL only) → `[deny *]` (SERVER_URL does not go through the proxy).
 */
export interface NetworkRule {
  action: "allow" | "deny";
  domain: string;
}

export interface NetworkPolicy {
  rules: NetworkRule[];
}

export const DEFAULT_NETWORK_POLICY: NetworkPolicy = { rules: [] };
const MAX_RULES = 1_000;
const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

export class PolicyValidationError extends Error {
  override name = "PolicyValidationError";
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, "");
}

function validDomainPattern(domain: string): boolean {
  if (domain === "*") {
    return true;
  }
  const name = domain.startsWith("*.") ? domain.slice(2) : domain;
  if (name.length === 0 || name.length > 253) {
    return false;
  }
  return name.split(".").every((label) => LABEL.test(label));
}

/** Parses a request body into a policy, or throws a message saying which rule is wrong and why. */
export function parseNetworkPolicy(body: unknown): NetworkPolicy {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new PolicyValidationError(
      'the body must be a JSON object like {"rules": [{"action": "allow", "domain": "github.com"}]}',
    );
  }
  const rules = (body as { rules?: unknown }).rules;
  if (!Array.isArray(rules)) {
    throw new PolicyValidationError("rules must be an array of {action, domain} objects");
  }
  if (rules.length > MAX_RULES) {
    throw new PolicyValidationError(`at most ${MAX_RULES} rules, got ${rules.length}`);
  }
  return {
    rules: rules.map((rule: unknown, index): NetworkRule => {
      if (typeof rule !== "object" || rule === null || Array.isArray(rule)) {
        throw new PolicyValidationError(`rules[${index}] must be an object with action and domain`);
      }
      const { action, domain, include } = rule as Record<string, unknown>;
      if (include !== undefined) {
        throw new PolicyValidationError(
          `rules[${index}].include: preset bundles are not supported by sprites-local; list the domains instead`,
        );
      }
      if (action !== "allow" && action !== "deny") {
        throw new PolicyValidationError(
          `rules[${index}].action must be "allow" or "deny", got ${JSON.stringify(action)}`,
        );
      }
      if (typeof domain !== "string" || !validDomainPattern(normalizeName(domain))) {
        throw new PolicyValidationError(
          `rules[${index}].domain ${JSON.stringify(domain)} must be a host name ("github.com"), a wildcard ("*.npmjs.org") or "*"`,
        );
      }
      return { action, domain: normalizeName(domain) };
    }),
  };
}

function matches(pattern: string, host: string): boolean {
  if (pattern === "*") {
    return true;
  }
  if (pattern.startsWith("*.")) {
    return host.endsWith(pattern.slice(1));
  }
  return host === pattern;
}

/** The rule that decides for `host`, or null when none matches (which allows). */
export function decidingRule(policy: NetworkPolicy, host: string): NetworkRule | null {
  const name = normalizeName(host);
  return policy.rules.find((rule) => matches(rule.domain, name)) ?? null;
}
