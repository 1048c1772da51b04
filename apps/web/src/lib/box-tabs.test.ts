import { describe, expect, it } from "vitest";
import { boxItemPath, parseBoxTab } from "./box-tabs";

describe("box page places", () => {
  it("opens a tab on its item", () => {
    expect(boxItemPath("box_1", "email", "eml_2")).toBe("/boxes/box_1?tab=email&email=eml_2");
    expect(boxItemPath("box_1", "cronjobs", "cron_3")).toBe("/boxes/box_1?tab=cronjobs&cronjob=cron_3");
  });

  it("escapes what would end the path or the parameter", () => {
    expect(boxItemPath("a/b", "email", "x&y=z")).toBe("/boxes/a%2Fb?tab=email&email=x%26y%3Dz");
  });

  it("reads ?tab=, falling back to the overview", () => {
    expect(parseBoxTab("cronjobs")).toBe("cronjobs");
    expect(parseBoxTab(["email", "files"])).toBe("email");
    expect(parseBoxTab("nope")).toBe("overview");
    expect(parseBoxTab(undefined)).toBe("overview");
  });
});
