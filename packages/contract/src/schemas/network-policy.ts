import { z } from "zod";

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
  const ascii = hostToAscii(name.toLowerCase());
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

export const networkPolicySchema = z.object({
  mode: z.enum(NETWORK_POLICY_MODES),
  domains: z.array(z.string()),
});

const domainsInput = z
  .array(z.string().max(300, "a domain is at most 253 characters"), {
    error: "domains must be a list of domain names",
  })
  // Room for duplicates that dedupe away; the real limit is checked after normalizing.
  .max(MAX_POLICY_DOMAINS * 5, `at most ${MAX_POLICY_DOMAINS} domains are allowed`)
  .default([])
  .transform((raw, ctx) => {
    const result = normalizeDomains(raw);
    if ("errors" in result) {
      for (const message of result.errors) {
        ctx.addIssue({ code: "custom", message });
      }
      return z.NEVER;
    }
    return result.domains;
  });

export const updateNetworkPolicyInput = z.object({
  mode: z.enum(NETWORK_POLICY_MODES, {
    error: "mode must be 'internet', 'allowlist' or 'platform'",
  }),
  domains: domainsInput,
});

/**
 * The WHATWG URL host parser (what Node's `domainToASCII` runs too), so the dashboard validates in the
 * browser exactly as the server does: punycode for international names, "" for what is not a host.
 */
function hostToAscii(name: string): string {
  if (/[\s\\%]/.test(name)) {
    return "";
  }
  try {
    return new URL(`http://${name}/`).hostname;
  } catch {
    return "";
  }
}
