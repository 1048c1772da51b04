import { describe, expect, it } from "vitest";
import { networkPolicyRules, normalizeDomain, normalizeDomains } from "./box-network-policy";

describe("networkPolicyRules", () => {
  it("maps internet to no rule, even where the platform host is always allowed", () => {
    expect(
      networkPolicyRules({ mode: "internet", domains: ["a.example"] }, ["api.platform.example"]),
    ).toEqual([]);
  });

  it("maps an allowlist to its allow rules, then deny *, keeping the platform reachable on Fly", () => {
    expect(
      networkPolicyRules({ mode: "allowlist", domains: ["github.com", "*.npmjs.org"] }, [
        "api.platform.example",
      ]),
    ).toEqual([
      { action: "allow", domain: "api.platform.example" },
      { action: "allow", domain: "github.com" },
      { action: "allow", domain: "*.npmjs.org" },
      { action: "deny", domain: "*" },
    ]);
  });

  it("maps platform to deny * (plus the platform host where the sandbox does not forward it)", () => {
    expect(networkPolicyRules({ mode: "platform", domains: ["ignored.example"] }, [])).toEqual([
      { action: "deny", domain: "*" },
    ]);
    expect(networkPolicyRules({ mode: "platform", domains: [] }, ["api.platform.example"])).toEqual([
      { action: "allow", domain: "api.platform.example" },
      { action: "deny", domain: "*" },
    ]);
  });
});

describe("normalizeDomain", () => {
  it("lowercases, drops a trailing dot, keeps a leading wildcard and converts to punycode", () => {
    expect(normalizeDomain(" Example.COM. ")).toEqual({ domain: "example.com" });
    expect(normalizeDomain("*.Example.com")).toEqual({ domain: "*.example.com" });
    expect(normalizeDomain("münchen.de")).toEqual({ domain: "xn--mnchen-3ya.de" });
  });

  it("says what is wrong with what is not a domain", () => {
    const cases: Array<[string, string]> = [
      ["", "empty"],
      ["http://example.com", "scheme"],
      ["example.com/x", "path"],
      ["example.com:8080", "port"],
      ["10.0.0.1", "IP address"],
      ["[::1]", "IP address"],
      ["::ffff:127.0.0.1", "IP address"],
      ["user@example.com", "'@'"],
      ["ex*mple.com", "wildcard"],
      ["*", "mode 'internet'"],
      ["localhost", "full domain name"],
      ["a..b", "valid domain name"],
      [`${"a".repeat(64)}.com`, "valid domain name"],
    ];
    for (const [input, fragment] of cases) {
      const result = normalizeDomain(input);
      expect("error" in result ? result.error : "", input).toContain(fragment);
    }
  });

  it("dedupes after normalizing and caps the list at 200", () => {
    expect(normalizeDomains(["A.example", "a.example.", "b.example"])).toEqual({
      domains: ["a.example", "b.example"],
    });
    const many = Array.from({ length: 201 }, (_, i) => `h${i}.example`);
    expect(normalizeDomains(many)).toEqual({ errors: ["at most 200 domains are allowed (got 201)"] });
  });
});
