import net from "node:net";
import os from "node:os";

/** Address ranges a sprite never reaches through the egress proxy, whatever its domain rules say. */
const FORBIDDEN_V4: Array<[string, number, string]> = [
  ["0.0.0.0", 8, "'this network' (0.0.0.0/8)"],
  ["10.0.0.0", 8, "a private address (RFC 1918, 10.0.0.0/8)"],
  ["100.64.0.0", 10, "a carrier-grade NAT address (100.64.0.0/10)"],
  ["127.0.0.0", 8, "a loopback address (127.0.0.0/8)"],
  ["169.254.0.0", 16, "a link-local address (169.254.0.0/16, cloud metadata included)"],
  ["172.16.0.0", 12, "a private address (RFC 1918, 172.16.0.0/12)"],
  ["192.0.0.0", 24, "an IETF protocol address (192.0.0.0/24)"],
  ["192.168.0.0", 16, "a private address (RFC 1918, 192.168.0.0/16)"],
  ["198.18.0.0", 15, "a benchmarking address (198.18.0.0/15)"],
  ["224.0.0.0", 4, "a multicast address (224.0.0.0/4)"],
  ["240.0.0.0", 4, "a reserved or broadcast address (240.0.0.0/4)"],
];

const FORBIDDEN_V6: Array<[string, number, string]> = [
  ["::", 128, "the unspecified address (::)"],
  ["::1", 128, "a loopback address (::1)"],
  ["fc00::", 7, "a unique local address (fc00::/7)"],
  ["fe80::", 10, "a link-local address (fe80::/10)"],
  ["fec0::", 10, "a site-local address (fec0::/10)"],
  ["ff00::", 8, "a multicast address (ff00::/8)"],
  ["100::", 64, "a discard-only address (100::/64)"],
];

function buildList(entries: Array<[string, number, string]>, family: "ipv4" | "ipv6") {
  return entries.map(([network, prefix, reason]) => {
    const list = new net.BlockList();
    list.addSubnet(network, prefix, family);
    return { list, reason };
  });
}

const V4_RULES = buildList(FORBIDDEN_V4, "ipv4");
const V6_RULES = buildList(FORBIDDEN_V6, "ipv6");

function ipv6Words(address: string): number[] | null {
  // Expand "::" and a trailing dotted quad into eight 16-bit words.
  let text = address.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) {
    text = text.slice(0, zone);
  }
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad?.[1]) {
    const bytes = quad[1].split(".").map(Number);
    const [a = 0, b = 0, c = 0, d = 0] = bytes;
    text = `${text.slice(0, -quad[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) {
    return null;
  }
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) {
    return null;
  }
  const words = [...head, ...Array<string>(missing).fill("0"), ...tail].map((w) => Number.parseInt(w, 16));
  return words.some((w) => Number.isNaN(w) || w < 0 || w > 0xffff) ? null : words;
}

function v4FromWords(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one a host would reach:
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16).
 */
export function embeddedIpv4(address: string): string | null {
  const w = ipv6Words(address);
  if (!w) {
    return null;
  }
  const [w0, w1, w2, w3, w4, w5, w6 = 0, w7 = 0] = w;
  const zeroHead = w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0;
  if (zeroHead && w5 === 0xffff) {
    return v4FromWords(w6, w7);
  }
  if (zeroHead && w5 === 0 && (w6 !== 0 || w7 > 1)) {
    return v4FromWords(w6, w7);
  }
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0) {
    return v4FromWords(w6, w7);
  }
  if (w0 === 0x2002) {
    return v4FromWords(w1 ?? 0, w2 ?? 0);
  }
  return null;
}

/** This host's own addresses, and the networks its interfaces are directly on (its LAN). */
function hostNetworks(): { addresses: Set<string>; subnets: Array<{ list: net.BlockList; label: string }> } {
  const addresses = new Set<string>();
  const subnets: Array<{ list: net.BlockList; label: string }> = [];
  for (const [name, list] of Object.entries(os.networkInterfaces())) {
    for (const entry of list ?? []) {
      addresses.add(entry.address.toLowerCase());
      if (entry.internal || !entry.cidr) {
        continue;
      }
      const [network = "", prefix = ""] = entry.cidr.split("/");
      const family = entry.family === "IPv4" ? "ipv4" : "ipv6";
      const block = new net.BlockList();
      block.addSubnet(network, Number(prefix), family);
      subnets.push({ list: block, label: `${name} ${entry.cidr}` });
    }
  }
  return { addresses, subnets };
}

/**
 * Why a sprite may not connect to `address`, or null when it may. Checked on the address the
 * proxy is about to connect to (never a second lookup), so DNS rebinding gains nothing.
 */
export function forbiddenAddressReason(address: string): string | null {
  const family = net.isIP(address);
  if (family === 0) {
    return `'${address}' is not an IP address`;
  }
  if (family === 4) {
    const range = V4_RULES.find((rule) => rule.list.check(address, "ipv4"))?.reason;
    if (range) {
      return range;
    }
  } else {
    const v4 = embeddedIpv4(address);
    if (v4 !== null) {
      const inner = forbiddenAddressReason(v4);
      return inner === null ? null : `${inner}, embedded in the IPv6 address`;
    }
    const range = V6_RULES.find((rule) => rule.list.check(address, "ipv6"))?.reason;
    if (range) {
      return range;
    }
  }
  const host = hostNetworks();
  if (host.addresses.has(address.toLowerCase())) {
    return "an address of this host";
  }
  const type = family === 4 ? "ipv4" : "ipv6";
  const lan = host.subnets.find((subnet) => subnet.list.check(address, type));
  return lan ? `an address on this host's local network (${lan.label})` : null;
}
