import { Resolver } from "node:dns/promises";
import { authenticate, type DNSResolver } from "mailauth";

/**
 * Who really sent an inbound email, as the receiving side could tell. Mirrors `EmailAuthentication`
 * in @vps-claude/db (stored in `box_email.authentication`).
 */
export interface EmailAuthenticationVerdict {
  /** `smtp`: checked here with mailauth; `resend`: Resend's own results; `none`: nothing could be checked. */
  source: "smtp" | "resend" | "none";
  /** RFC 8601 results: pass, fail, softfail, neutral, none, temperror, permerror. */
  spf: string;
  dkim: string;
  dmarc: string;
  /** True only when DMARC passed, or SPF or DKIM passed for a domain aligned with the From domain. */
  authenticated: boolean;
  /** The From domain the verdict speaks for. */
  domain?: string;
}

export const UNCHECKED_EMAIL: EmailAuthenticationVerdict = {
  source: "none",
  spf: "none",
  dkim: "none",
  dmarc: "none",
  authenticated: false,
};

export type DnsLookup = DNSResolver;

/**
 * The DNS the checks resolve through. `servers` (`host[:port]`, e.g. `127.0.0.1:5353`) replaces the
 * system's resolvers; unset, the system configuration is used. A real `dns.promises.Resolver` either
 * way, so timeouts and retries are the resolver's own.
 */
export function createDnsLookup({
  servers,
  timeoutMs = 5_000,
}: {
  servers?: string[];
  timeoutMs?: number;
} = {}): DnsLookup {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers && servers.length > 0) {
    resolver.setServers(servers);
  }
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}

const lower = (domain: string | undefined) =>
  domain?.trim().toLowerCase().replace(/^@/, "").replace(/\.$/, "") ?? "";

/**
 * Relaxed alignment without a public-suffix list, on the safe side: the authenticated domain is the
 * From domain or one of its parents (whose zone owner controls the From domain anyway). A sibling
 * (`a.example.com` for `b.example.com`) does not align here, so `x.github.io` can never vouch
 * for `y.github.io`.
 */
export function domainAligned(fromDomain: string | undefined, authenticatedDomain: string | undefined) {
  const from = lower(fromDomain);
  const other = lower(authenticatedDomain);
  return from !== "" && other !== "" && (from === other || from.endsWith(`.${other}`));
}

function domainOf(address: string | undefined): string | undefined {
  if (!address) {
    return undefined;
  }
  const at = address.lastIndexOf("@");
  return lower(at >= 0 ? address.slice(at + 1) : address) || undefined;
}

/**
 * SPF (client IP, HELO, MAIL FROM), DKIM and DMARC for a message received over SMTP, with mailauth.
 * ARC and BIMI are off: ARC would let any forwarder vouch for a message, and BIMI fetches logos.
 * A DNS failure yields `temperror` results (unauthenticated), never an exception.
 */
export async function authenticateSmtpMessage({
  message,
  clientIp,
  helo,
  mailFrom,
  receivingHost,
  lookup,
}: {
  message: Buffer;
  clientIp: string;
  helo?: string;
  /** The envelope sender; empty for bounces. */
  mailFrom?: string;
  /** Our name in the Authentication-Results mailauth builds. */
  receivingHost: string;
  lookup: DnsLookup;
}): Promise<EmailAuthenticationVerdict> {
  const result = await authenticate(message, {
    ip: clientIp.replace(/^::ffff:/i, ""),
    helo,
    sender: mailFrom || undefined,
    mta: receivingHost,
    resolver: lookup,
    disableArc: true,
    disableBimi: true,
  });
  const fromAddresses = result.dkim.headerFrom ?? [];
  // More than one From address (or none) has no DMARC identity: nothing can be aligned with it.
  const domain = fromAddresses.length === 1 ? domainOf(fromAddresses[0]) : undefined;

  const spfResult = result.spf ? result.spf.status.result : "none";
  const spfAligned = spfResult === "pass" && result.spf !== false && domainAligned(domain, result.spf.domain);

  const signatures = result.dkim.results ?? [];
  const passing = signatures.filter((signature) => signature.status.result === "pass");
  const alignedSignature = passing.find(
    (signature) => Boolean(signature.status.aligned) || domainAligned(domain, signature.signingDomain),
  );
  const dkimResult = passing.length > 0 ? "pass" : (signatures[0]?.status.result ?? "none");

  const dmarcResult = result.dmarc ? result.dmarc.status.result : "none";
  const authenticated =
    domain !== undefined &&
    (dmarcResult === "pass" || (dmarcResult !== "fail" && (spfAligned || Boolean(alignedSignature))));
  return { source: "smtp", spf: spfResult, dkim: dkimResult, dmarc: dmarcResult, authenticated, domain };
}

interface AuthResult {
  method: string;
  result: string;
  properties: Record<string, string>;
}

function stripComments(value: string): string {
  let depth = 0;
  let out = "";
  let quoted = false;
  for (const char of value) {
    if (char === '"' && depth === 0) {
      quoted = !quoted;
    }
    if (!quoted && char === "(") {
      depth += 1;
      continue;
    }
    if (!quoted && char === ")" && depth > 0) {
      depth -= 1;
      continue;
    }
    if (depth === 0) {
      out += char;
    }
  }
  return out;
}

/** RFC 8601 `Authentication-Results: authserv-id; method=result ptype.prop=value ...; ...`. */
export function parseAuthenticationResultsHeader(value: string): {
  authservId: string;
  results: AuthResult[];
} {
  const [authserv = "", ...clauses] = stripComments(value.replace(/\r?\n[ \t]+/g, " ")).split(";");
  const results: AuthResult[] = [];
  for (const clause of clauses) {
    const tokens = clause.trim().split(/\s+/).filter(Boolean);
    const [head, ...rest] = tokens;
    const match = head?.match(/^([a-z0-9-]+)(?:\/[0-9]+)?=([a-z]+)$/i);
    if (!match?.[1] || !match[2]) {
      continue;
    }
    const properties: Record<string, string> = {};
    for (const token of rest) {
      const property = token.match(/^([a-z0-9-]+\.[a-z0-9-]+)=(.+)$/i);
      if (property?.[1] && property[2]) {
        properties[property[1].toLowerCase()] = property[2].replace(/^"|"$/g, "");
      }
    }
    results.push({ method: match[1].toLowerCase(), result: match[2].toLowerCase(), properties });
  }
  return { authservId: authserv.trim().split(/\s+/)[0] ?? "", results };
}

/**
 * The verdict from the Authentication-Results the receiving provider (Resend) added. Only the
 * topmost header is read: the provider prepends its own, anything below it came with the message.
 * A DMARC pass counts only for the message's actual From domain.
 */
export function verdictFromAuthenticationResults({
  header,
  from,
}: {
  header: string | string[] | undefined;
  from: string;
}): EmailAuthenticationVerdict {
  const topmost = Array.isArray(header) ? header[0] : header;
  const domain = domainOf(from.match(/<([^<>]+)>\s*$/)?.[1] ?? from);
  if (!topmost?.trim()) {
    return { ...UNCHECKED_EMAIL, domain };
  }
  const { results } = parseAuthenticationResultsHeader(topmost);
  const of = (method: string) => results.filter((entry) => entry.method === method);
  const summary = (entries: AuthResult[]) =>
    entries.find((entry) => entry.result === "pass")?.result ?? entries[0]?.result ?? "none";

  const spf = of("spf");
  const dkim = of("dkim");
  const dmarc = of("dmarc");
  const spfAligned = spf.some(
    (entry) =>
      entry.result === "pass" &&
      domainAligned(domain, domainOf(entry.properties["smtp.mailfrom"] ?? entry.properties["smtp.helo"])),
  );
  const dkimAligned = dkim.some(
    (entry) =>
      entry.result === "pass" &&
      domainAligned(domain, entry.properties["header.d"] ?? domainOf(entry.properties["header.i"])),
  );
  const dmarcPass = dmarc.some(
    (entry) =>
      entry.result === "pass" &&
      (entry.properties["header.from"] === undefined || lower(entry.properties["header.from"]) === domain),
  );
  const dmarcResult = summary(dmarc);
  const authenticated =
    domain !== undefined && (dmarcPass || (dmarcResult !== "fail" && (spfAligned || dkimAligned)));
  return {
    source: "resend",
    spf: summary(spf),
    dkim: summary(dkim),
    dmarc: dmarcResult,
    authenticated,
    domain,
  };
}
