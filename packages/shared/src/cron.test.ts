import { CronExpressionParser } from "cron-parser";
import { describe, expect, it } from "vitest";
import { checkCronExpression, nextCronFireTimes } from "./cron";

describe("checkCronExpression", () => {
  it.each([
    "* * * * *",
    "0 9 * * 1-5",
    "*/15 0-6,18-23 * * *",
    "0 0 1 jan,jul *",
    "30 8 * * mon-fri",
    "0 0 * * 7",
    "5-10/2 * * * *",
    // The scheduler's dialect beyond five plain fields: seconds, last day of month, macros.
    "*/30 * * * * *",
    "0 0 L * *",
    "@daily",
  ])("accepts %s, as the scheduler does", (expression) => {
    expect(checkCronExpression(expression)).toEqual({ ok: true });
    expect(() => CronExpressionParser.parse(expression)).not.toThrow();
  });

  it.each([
    ["", "expected 5 fields"],
    ["* * * *", "got 4"],
    ["* * * * * * *", "got 7"],
    ["60 * * * *", "minute must be 0–59, got 60"],
    ["* 24 * * *", "hour must be 0–23, got 24"],
    ["* * 32 * *", "day of month must be 1–31, got 32"],
    ["* * * 0 *", "month must be 1–12, got 0"],
    ["1,,2 * * * *", "minute has an empty list item"],
    ["*/x * * * *", "minute '*/x' is not a number"],
    ["10-5 * * * *", "minute range '10-5' runs backwards"],
    ["61 * * * * *", "second must be 0–59, got 61"],
  ])("rejects %j with the reason", (expression, reason) => {
    const check = checkCronExpression(expression);
    expect(check.ok).toBe(false);
    expect(check.ok ? "" : check.reason).toContain(reason);
    if (expression.trim().split(/\s+/).length >= 5) {
      expect(() => CronExpressionParser.parse(expression), "the scheduler rejects it too").toThrow();
    }
  });
});

describe("nextCronFireTimes", () => {
  it("gives the scheduler's next fire times in the job's time zone", () => {
    const from = new Date("2026-03-01T10:00:00Z");
    const times = nextCronFireTimes("0 9 * * *", { count: 2, timezone: "Europe/Paris", from });
    expect(times.map((t) => t.toISOString())).toEqual([
      "2026-03-02T08:00:00.000Z",
      "2026-03-03T08:00:00.000Z",
    ]);
  });
});
