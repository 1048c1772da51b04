import { describe, expect, it } from "vitest";
import { safeReturnPath } from "./return-path";

describe("safeReturnPath", () => {
  it.each([
    ["/", "/"],
    ["/boxes/box_123", "/boxes/box_123"],
    ["/boxes/box_123?tab=files#top", "/boxes/box_123?tab=files#top"],
    ["/settings?next=//evil.com", "/settings?next=//evil.com"],
    ["/a/../settings", "/settings"],
  ])("keeps the local path %j", (input, expected) => {
    expect(safeReturnPath(input)).toBe(expected);
  });

  it.each([
    [undefined],
    [""],
    ["boxes"],
    ["//evil.com"],
    ["///evil.com"],
    ["/\\evil.com"],
    ["/\\/evil.com"],
    ["\\\\evil.com"],
    ["/\t/evil.com"],
    ["/\n/evil.com"],
    ["/\r\n/evil.com"],
    ["/\u0000/evil.com"],
    ["/\u007f"],
    ["/x\\y"],
    ["https://evil.com"],
    ["javascript:alert(1)"],
    ["data:text/html,hi"],
    [" /boxes"],
    [`/${"a".repeat(3000)}`],
  ])("sends %j home instead", (input) => {
    expect(safeReturnPath(input)).toBe("/");
  });

  it("takes the first of repeated parameters", () => {
    expect(safeReturnPath(["/settings", "//evil.com"])).toBe("/settings");
    expect(safeReturnPath(["//evil.com", "/settings"])).toBe("/");
  });
});
