import { describe, expect, it } from "vitest";
import {
  createTrustedProxies,
  isAddressOrCidr,
  normalizeAddress,
  resolveClientAddress,
} from "./client-address";

describe("resolveClientAddress", () => {
  const none = createTrustedProxies([]);
  const proxies = createTrustedProxies(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);

  it.each([
    ["no trusted proxies: the peer, whatever it forwards", none, "127.0.0.1", "198.51.100.7", "127.0.0.1"],
    ["an untrusted peer is the client", proxies, "203.0.113.9", "198.51.100.7", "203.0.113.9"],
    ["a trusted peer vouches for the hop before it", proxies, "127.0.0.1", "198.51.100.7", "198.51.100.7"],
    [
      "spoofed entries left of the first untrusted hop are ignored",
      proxies,
      "127.0.0.1",
      "1.2.3.4, 198.51.100.7, 10.1.2.3",
      "198.51.100.7",
    ],
    ["a trusted peer with nothing forwarded is the client", proxies, "127.0.0.1", undefined, "127.0.0.1"],
    ["every hop trusted: the leftmost", proxies, "127.0.0.1", "10.0.0.2, 10.0.0.3", "10.0.0.2"],
    ["garbage stops at the hop that passed it", proxies, "127.0.0.1", "198.51.100.7, not-an-ip", "127.0.0.1"],
    ["IPv4-mapped peers match IPv4 rules", proxies, "::ffff:127.0.0.1", "198.51.100.7", "198.51.100.7"],
    ["IPv6 ranges", proxies, "fd12::1", "2001:db8::5", "2001:db8::5"],
    ["ports and brackets are dropped", proxies, "127.0.0.1", "[2001:db8::5]:443", "2001:db8::5"],
  ])("%s", (_, trusted, peer, forwarded, expected) => {
    expect(resolveClientAddress(peer, forwarded, trusted)).toBe(expected);
  });

  it("has no answer without a socket", () => {
    expect(resolveClientAddress(undefined, "198.51.100.7", proxies)).toBeUndefined();
  });
});

describe("TRUSTED_PROXIES entries", () => {
  it.each(["10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "0.0.0.0/0"])("accepts %s", (entry) => {
    expect(isAddressOrCidr(entry)).toBe(true);
  });
  it.each(["localhost", "10.0.0.0/33", "::/129", "10.0.0.0/8/1", "10.0.0.0/x", ""])("refuses %j", (entry) => {
    expect(isAddressOrCidr(entry)).toBe(false);
  });
  it("normalizes addresses", () => {
    expect(normalizeAddress(" ::FFFF:10.0.0.1 ")).toBe("10.0.0.1");
    expect(normalizeAddress("1.2.3.4:5678")).toBe("1.2.3.4");
    expect(normalizeAddress("2001:DB8::1")).toBe("2001:db8::1");
    expect(normalizeAddress("evil")).toBeUndefined();
  });
});
