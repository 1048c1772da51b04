import { describe, expect, it } from "vitest";
import { normalizeDomain, normalizeDomains } from "./network-policy";

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
