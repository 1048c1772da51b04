import { describe, expect, it } from "vitest";
import { type CronjobRow, toCronjobDto } from "./cronjob-dto";

const row = (values: Partial<CronjobRow> = {}): CronjobRow => ({
  id: "cron_1",
  boxId: "box_1",
  name: "digest",
  schedule: "0 9 * * *",
  prompt: "Summarise",
  timezone: "Europe/Paris",
  enabled: true,
  overlap: "skip",
  sessionMode: "continue",
  model: null,
  maxDurationMinutes: null,
  lastRunAt: null,
  createdAt: new Date("2026-01-01T00:00:00Z"),
  updatedAt: new Date("2026-01-01T00:00:00Z"),
  ...values,
});

describe("toCronjobDto", () => {
  it("lists the next five fire times in the job's time zone, and names the session mode `session`", () => {
    const dto = toCronjobDto(row(), new Date("2026-03-27T10:00:00Z"));
    // Paris moves to summer time on 29 March 2026: 09:00 there is 08:00 UTC before, 07:00 UTC after.
    expect(dto.nextRuns.map((date) => date.toISOString())).toEqual([
      "2026-03-28T08:00:00.000Z",
      "2026-03-29T07:00:00.000Z",
      "2026-03-30T07:00:00.000Z",
      "2026-03-31T07:00:00.000Z",
      "2026-04-01T07:00:00.000Z",
    ]);
    expect(dto.session).toBe("continue");
    expect("sessionMode" in dto).toBe(false);
  });

  it("lists none while disabled, or for an expression the parser no longer takes", () => {
    expect(toCronjobDto(row({ enabled: false })).nextRuns).toEqual([]);
    expect(toCronjobDto(row({ schedule: "not a schedule" })).nextRuns).toEqual([]);
  });
});
