import { describe, expect, test } from "vitest";
import { loadRunnerEnv } from "./env";

describe("loadRunnerEnv", () => {
  test("defaults to the documented ports and URLs, on loopback", () => {
    expect(loadRunnerEnv({})).toMatchObject({
      PORT: 33000,
      WEB_PORT: 33001,
      SPRITES_LOCAL_PORT: 33010,
      HOST: "127.0.0.1",
      PUBLIC_URL: "http://localhost:33001",
      SERVER_URL: "http://127.0.0.1:33000",
      SERVER_ROLE: "all",
    });
  });

  test("derives the URLs from changed ports and treats empty variables as unset", () => {
    const env = loadRunnerEnv({ PORT: "4000", WEB_PORT: "4001", DATABASE_URL: "", PUBLIC_URL: "" });
    expect(env.PUBLIC_URL).toBe("http://localhost:4001");
    expect(env.SERVER_URL).toBe("http://127.0.0.1:4000");
    expect(env.DATABASE_URL).toBeUndefined();
  });

  test("names the variable that is wrong", () => {
    expect(() => loadRunnerEnv({ PORT: "http" })).toThrow(/PORT/);
    expect(() => loadRunnerEnv({ PUBLIC_URL: "localhost:33001" })).toThrow(/PUBLIC_URL/);
  });
});
