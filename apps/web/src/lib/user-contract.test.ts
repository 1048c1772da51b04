import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { minifiedUserContract } from "./minify-contract";

describe("user-contract.json", () => {
  it("holds the user contract's routes as they are now", () => {
    const committed = readFileSync(new URL("./user-contract.json", import.meta.url), "utf8");
    expect(
      committed,
      "user-contract.json is stale: run `npm run -w @vps-claude/web contract:json` and commit it",
    ).toBe(minifiedUserContract());
  });
});
