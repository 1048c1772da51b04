import { BlockList, isIP } from "node:net";

/**
 * Who the client is, for rate limits and session records. The TCP peer is the truth unless it is a
 * proxy the operator trusts (TRUSTED_PROXIES); then X-Forwarded-For is read right to left, each
 * trusted hop vouching for the one before it, and the first address that is not a trusted proxy
 * is the client. Everything left of it was written by the client and proves nothing.
 */
export interface TrustedProxies {
  has(address: string): boolean;
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** A bare IP for an X-Forwarded-For entry or socket address ("::ffff:1.2.3.4" → "1.2.3.4", "[::1]" → "::1"). */
export function normalizeAddress(raw: string): string | undefined {
  let value = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed?.[1]) {
    value = bracketed[1];
  } else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(value)) {
    value = value.slice(0, value.lastIndexOf(":"));
  }
  const mapped = IPV4_MAPPED.exec(value);
  if (mapped?.[1]) {
    value = mapped[1];
  }
  return isIP(value) === 0 ? undefined : value.toLowerCase();
}

export function isAddressOrCidr(entry: string): boolean {
  const [address = "", prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) {
    return false;
  }
  if (prefix === undefined) {
    return true;
  }
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

export function createTrustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    if (!isAddressOrCidr(entry)) {
      throw new Error(`TRUSTED_PROXIES: '${entry}' is not an IP address or CIDR range`);
    }
    const [address = "", prefix] = entry.split("/");
    const bare = normalizeAddress(address) ?? address;
    const type = isIP(bare) === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) {
      list.addAddress(bare, type);
    } else {
      list.addSubnet(bare, Number(prefix), type);
    }
  }
  const empty = entries.length === 0;
  return {
    has(address) {
      if (empty) {
        return false;
      }
      const bare = normalizeAddress(address);
      return bare !== undefined && list.check(bare, isIP(bare) === 4 ? "ipv4" : "ipv6");
    },
  };
}

/**
 * The client's address, or undefined when there is no socket (an in-process call). A malformed
 * entry in the chain stops the walk at the trusted hop that passed it on, so garbage cannot mint
 * fresh identities.
 */
export function resolveClientAddress(
  peer: string | undefined,
  forwardedFor: string | null | undefined,
  trusted: TrustedProxies,
): string | undefined {
  if (!peer) {
    return undefined;
  }
  let client = normalizeAddress(peer) ?? peer;
  if (!forwardedFor || !trusted.has(client)) {
    return client;
  }
  const hops = forwardedFor.split(",");
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = normalizeAddress(hops[index] ?? "");
    if (!hop) {
      return client;
    }
    client = hop;
    if (!trusted.has(hop)) {
      return hop;
    }
  }
  return client;
}
