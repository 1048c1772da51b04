import { describe, expect, it } from "vitest";
import { isId, newId } from "./ids";
import { envVarKeySchema, subdomainSchema } from "./schemas";
import { generateSubdomain, slugify } from "./subdomain";

describe("subdomains", () => {
  it.each([
    ["My Box!", "my-box"],
    ["  Ünïcöde  Agent ", "unicode-agent"],
    ["---", "box"],
    ["a".repeat(80), "a".repeat(40)],
  ])("slugify(%j) = %j", (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });

  it("generates {slug}-{4 chars} that pass the subdomain schema", () => {
    for (const name of ["My Box", "x", "Ünïcødé", "!!!"]) {
      const subdomain = generateSubdomain(name);
      expect(subdomain).toMatch(/-[a-z0-9]{4}$/);
      expect(subdomainSchema.safeParse(subdomain).success, subdomain).toBe(true);
    }
  });
});

describe("ids and keys", () => {
  it("prefixes ids by kind", () => {
    const id = newId("box");
    expect(id).toMatch(/^box_[0-9a-z]{26}$/);
    expect(isId("box", id)).toBe(true);
    expect(isId("cronjob", id)).toBe(false);
    expect(isId("box", "box_nope")).toBe(false);
  });

  it.each([
    ["PATH_2", true],
    ["_x", true],
    ["2X", false],
    ["A-B", false],
    ["CLAUDE_CODE_X", false],
    ["", false],
  ])("env key %j valid: %s", (key, valid) => {
    expect(envVarKeySchema.safeParse(key).success).toBe(valid);
  });
});
