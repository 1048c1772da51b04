import { describe, expect, it } from "vitest";
import { dashboardSecurityHeaders } from "./security-headers";

const asMap = (development: boolean) =>
  new Map(dashboardSecurityHeaders({ development }).map(({ key, value }) => [key.toLowerCase(), value]));

describe("dashboard security headers", () => {
  it("forbid framing, sniffing and foreign sources; leak no path in referrers", () => {
    const headers = asMap(false);
    const csp = headers.get("content-security-policy") ?? "";
    const directives = new Map(
      csp.split(";").map((directive) => {
        const [name = "", ...sources] = directive.trim().split(/\s+/);
        return [name, sources] as const;
      }),
    );
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives.get("object-src")).toEqual(["'none'"]);
    expect(directives.get("default-src")).toEqual(["'self'"]);
    expect(directives.get("connect-src")).toEqual(["'self'"]);
    expect(directives.get("form-action")).toEqual(["'self'"]);
    expect(directives.get("base-uri")).toEqual(["'self'"]);
    expect(directives.get("script-src")).not.toContain("'unsafe-eval'");
    for (const sources of directives.values()) {
      expect(sources.filter((source) => source.includes("*") || /^https?:/.test(source))).toEqual([]);
    }
    expect(headers.get("x-frame-options")).toBe("DENY");
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
  });

  it("allow eval only for next dev", () => {
    expect(asMap(true).get("content-security-policy")).toContain("'unsafe-eval'");
  });
});
