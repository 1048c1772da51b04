import { describe, expect, it } from "vitest";
import { checkCronExpression } from "./cron";

describe("checkCronExpression", () => {
  it.each([
    "* * * * *",
    "0 9 * * 1-5",
    "*/15 0-6,18-23 * * *",
    "0 0 1 jan,jul *",
    "30 8 * * mon-fri",
    "0 0 * * 7",
    "5-10/2 * * * *",
  ])("accepts %s", (expression) => {
    expect(checkCronExpression(expression)).toEqual({ ok: true });
  });

  it.each([
    ["", "expected 5 fields"],
    ["* * * * * *", "got 6"],
    ["60 * * * *", "minute must be 0–59, got 60"],
    ["* * 32 * *", "day of month must be 1–31, got 32"],
    ["* * * 0 *", "month must be 1–12, got 0"],
    ["1,,2 * * * *", "empty list item"],
    ["*/x * * * *", "step 'x'"],
    ["1-2-3 * * * *", "not a value or a range"],
    ["@daily", "expected 5 fields"],
  ])("rejects %j with the reason", (expression, reason) => {
    const check = checkCronExpression(expression);
    expect(check.ok).toBe(false);
    expect(check.ok ? "" : check.reason).toContain(reason);
  });
});
