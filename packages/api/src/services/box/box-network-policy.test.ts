import { describe, expect, it } from "vitest";
import { networkPolicyRules } from "./box-network-policy";

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
