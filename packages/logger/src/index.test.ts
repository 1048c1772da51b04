import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./index";

describe("logger", () => {
  it("redacts secrets however they are nested", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const logger = createLogger({ name: "t", destination }).child({ requestId: "r1" });
    logger.info(
      {
        password: "p4ss",
        headers: { authorization: "Bearer abc", "x-box-secret": "tok" },
        credential: { value: "sk-1" },
        token: "t0",
      },
      "hello",
    );
    const line = lines.join("");
    for (const secret of ["p4ss", "Bearer abc", 'tok"', "sk-1", 't0"']) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain("[redacted]");
    expect(line).toContain("r1");
  });
});
