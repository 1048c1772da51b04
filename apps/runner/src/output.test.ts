import { describe, expect, test } from "vitest";
import { formatLogLine } from "./output";

describe("formatLogLine", () => {
  test("turns a pino line into level, message and fields", () => {
    const line = JSON.stringify({
      level: 40,
      time: "t",
      service: "server",
      msg: "slow",
      ms: 120,
      box: { id: "b" },
    });
    expect(formatLogLine(line)).toBe('warn: slow ms=120 box={"id":"b"}');
    expect(formatLogLine(JSON.stringify({ level: 30, msg: "ready", port: 1 }))).toBe("ready port=1");
  });

  test("appends an error's stack", () => {
    const line = JSON.stringify({
      level: 50,
      msg: "failed",
      err: { message: "x", stack: "Error: x\n    at y" },
    });
    expect(formatLogLine(line)).toBe("error: failed\nError: x\n    at y");
  });

  test("passes anything else through", () => {
    expect(formatLogLine("✓ Ready in 154ms")).toBe("✓ Ready in 154ms");
    expect(formatLogLine("{not json")).toBe("{not json");
    expect(formatLogLine('{"other":"json"}')).toBe('{"other":"json"}');
  });
});
