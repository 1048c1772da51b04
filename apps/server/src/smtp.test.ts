import { describe, expect, it } from "vitest";
import { createConnectionRateLimiter } from "./smtp";

describe("createConnectionRateLimiter", () => {
  it("allows N connections per address in a sliding minute, each address on its own", () => {
    let now = 1_000_000;
    const limiter = createConnectionRateLimiter({ perMinute: 3, now: () => now });
    expect([1, 2, 3].map(() => limiter.allow("192.0.2.1"))).toEqual([true, true, true]);
    expect(limiter.allow("192.0.2.1")).toBe(false);
    expect(limiter.allow("192.0.2.2")).toBe(true);

    now += 59_000;
    expect(limiter.allow("192.0.2.1")).toBe(false);
    // Refused attempts are not recorded: the window frees up a minute after the accepted ones.
    now += 1_001;
    expect(limiter.allow("192.0.2.1")).toBe(true);
  });
});
