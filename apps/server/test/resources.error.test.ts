import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, TestClient, type TestServer } from "./harness";

let server: TestServer;
let client: TestClient;
let boxId: string;
let cronjobId: string;

beforeAll(async () => {
  server = await startTestServer();
  ({ client } = await signedInClient(server));
  boxId = String((await client.post("/rpc/box", { name: "Errors" })).body.id);
  cronjobId = String(
    (
      await client.post(`/rpc/box/${boxId}/cronjobs`, {
        name: "existing",
        schedule: "0 * * * *",
        prompt: "p",
      })
    ).body.id,
  );
});
afterAll(async () => {
  await server?.close();
});

const message = (body: unknown) => String((body as { message?: unknown }).message);

describe("cron expressions are rejected with the reason", () => {
  it.each([
    ["61 * * * *", "minute must be 0–59, got 61"],
    ["* 24 * * *", "hour must be 0–23, got 24"],
    ["* * 0 * *", "day of month must be 1–31, got 0"],
    ["* * * 13 *", "month must be 1–12, got 13"],
    ["* * * * 8", "day of week must be 0–7, got 8"],
    ["* * * *", "expected 5 fields"],
    ["*/0 * * * *", "step '0' must be a positive whole number"],
    ["5-1 * * * *", "runs backwards"],
    ["abc * * * *", "minute 'abc' is not a number"],
  ])("%s", async (schedule, reason) => {
    const res = await client.post(`/rpc/box/${boxId}/cronjobs`, {
      name: `bad ${schedule}`,
      schedule,
      prompt: "x",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(message(res.body)).toContain(`schedule: cron expression '${schedule}': `);
    expect(message(res.body)).toContain(reason);
  });

  it("on update too", async () => {
    // Six fields are the scheduler's seconds-first form, so the third field is the hour.
    const res = await client.put(`/rpc/box/${boxId}/cronjobs/${cronjobId}`, { schedule: "0 0 31 2 * *" });
    expect(res.status).toBe(400);
    expect(message(res.body)).toContain("hour must be 0–23, got 31");
  });
});

describe("bad input gets a 400 naming the field", () => {
  it.each([
    ["empty box name", "/rpc/box", { name: "" }, "name: name must not be empty"],
    ["oversize box name", "/rpc/box", { name: "x".repeat(65) }, "name: name must be at most 64 characters"],
    ["bad skill name", "/rpc/box", { name: "ok", skills: ["Bad Skill"] }, "skills.0"],
    [
      "unknown skill",
      "/rpc/box",
      { name: "ok", skills: ["no-such-skill"] },
      "unknown skill 'no-such-skill'; available: daily-briefing",
    ],
    ["missing prompt", "cron", { name: "n", schedule: "* * * * *" }, "prompt"],
    [
      "bad timezone",
      "cron",
      { name: "n", schedule: "* * * * *", prompt: "p", timezone: "Mars/Base" },
      "IANA",
    ],
    ["bad env key", "env", { key: "1BAD-KEY", value: "v" }, "key must start with a letter or underscore"],
    ["reserved env key", "env", { key: "BOX_AGENT_PORT", value: "1" }, "reserved prefix"],
    ["empty env value", "env", { key: "EMPTY", value: "" }, "value must not be empty"],
    [
      "oversize env value",
      "env",
      { key: "BIG", value: "x".repeat(33 * 1024) },
      "value must be at most 32 KiB",
    ],
    ["bad env type", "env", { key: "T", value: "v", type: "hidden" }, "type"],
    ["empty credential", "/rpc/credentials", { key: "K", value: "" }, "value must not be empty"],
    ["bad credential key", "/rpc/credentials", { key: "has space", value: "v" }, "key must contain only"],
    [
      "bad MCP server",
      "agent",
      { triggerType: "email", mcpServers: { x: { type: "http", url: "ftp://x" } } },
      "http(s)",
    ],
    [
      "reserved MCP name",
      "agent",
      { triggerType: "email", mcpServers: { "box-agent": { type: "stdio", command: "x" } } },
      "reserved",
    ],
    ["bad trigger", "agent", { triggerType: "sms" }, "triggerType"],
  ])("%s", async (_, target, body, expected) => {
    const path =
      target === "cron"
        ? `/rpc/box/${boxId}/cronjobs`
        : target === "env"
          ? `/rpc/box/${boxId}/env`
          : target === "agent"
            ? `/rpc/box/${boxId}/agent-config`
            : target;
    const res = await client.post(path, body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(message(res.body)).toContain(expected);
  });

  it("an empty cronjob update says what to send", async () => {
    const res = await client.put(`/rpc/box/${boxId}/cronjobs/${cronjobId}`, {});
    expect(res.status).toBe(400);
    expect(message(res.body)).toContain("nothing to update");
  });

  it("malformed JSON is a 400, not a 500", async () => {
    const res = await fetch(`${server.url}/rpc/box`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.publicUrl, cookie: "" },
      body: "{not json",
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});

describe("unknown ids are 404, never 500", () => {
  it.each([
    ["GET", "/rpc/box/box_01h0000000000000000000000"],
    ["GET", "/rpc/box/not-even-an-id"],
    ["DELETE", "/rpc/box/box_01h0000000000000000000000"],
    ["GET", "/rpc/box/nope/cronjobs"],
    ["GET", "/rpc/box/nope/env"],
    ["GET", "/rpc/box/nope/agent-config"],
    ["PUT", "CRON/cron_01h0000000000000000000000"],
    ["DELETE", "CRON/cron_01h0000000000000000000000"],
    ["POST", "CRON/cron_01h0000000000000000000000/toggle"],
    ["GET", "CRON/nope/executions"],
    ["PUT", "ENV/NOPE"],
    ["DELETE", "ENV/NOPE"],
    ["PUT", "/rpc/credentials/NOPE"],
    ["DELETE", "/rpc/credentials/NOPE"],
    ["GET", "/rpc/no/such/route"],
    ["GET", "/nothing-here"],
  ])("%s %s", async (method, rawPath) => {
    const path = rawPath
      .replace("CRON", `/rpc/box/${boxId}/cronjobs`)
      .replace("ENV", `/rpc/box/${boxId}/env`);
    const body =
      method === "PUT" ? (path.includes("cronjobs") ? { prompt: "x" } : { value: "v" }) : undefined;
    const res = await client.request(method, path, body);
    expect(res.status, JSON.stringify(res.body)).toBe(404);
    expect(message(res.body).length).toBeGreaterThan(0);
  });

  it("redeploying an unknown box is 404", async () => {
    const res = await client.post("/rpc/box/deploy", { id: "box_01h0000000000000000000000" });
    expect(res.status).toBe(404);
  });
});

describe("duplicates are 409 with what to do", () => {
  it("cronjob name", async () => {
    const res = await client.post(`/rpc/box/${boxId}/cronjobs`, {
      name: "existing",
      schedule: "* * * * *",
      prompt: "p",
    });
    expect(res.status).toBe(409);
    expect(message(res.body)).toContain("already exists");
  });
  it("env var key", async () => {
    await client.post(`/rpc/box/${boxId}/env`, { key: "DUP", value: "1" });
    const res = await client.post(`/rpc/box/${boxId}/env`, { key: "DUP", value: "2" });
    expect(res.status).toBe(409);
    expect(message(res.body)).toContain("update it instead");
  });
  it("credential key", async () => {
    await client.post("/rpc/credentials", { key: "DUP_KEY", value: "value-1" });
    const res = await client.post("/rpc/credentials", { key: "DUP_KEY", value: "value-2" });
    expect(res.status).toBe(409);
  });
  it("redeploying a box being deleted", async () => {
    const id = String((await client.post("/rpc/box", { name: "going" })).body.id);
    await client.delete(`/rpc/box/${id}`);
    const res = await client.post("/rpc/box/deploy", { id });
    expect(res.status).toBe(409);
    expect(message(res.body)).toContain("being deleted");
  });
});

describe("auth errors are clear", () => {
  it("short password", async () => {
    const res = await new TestClient(server).post("/api/auth/sign-up/email", {
      email: "short@example.com",
      password: "short",
      name: "s",
    });
    expect(res.status).toBe(400);
    expect(message(res.body).toLowerCase()).toContain("password");
  });
  it("email taken", async () => {
    const fresh = new TestClient(server);
    const { email } = await fresh.signUp();
    const res = await new TestClient(server).post("/api/auth/sign-up/email", {
      email,
      password: "another-password",
      name: "x",
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
  it("wrong password", async () => {
    const fresh = new TestClient(server);
    const { email } = await fresh.signUp();
    const res = await new TestClient(server).post("/api/auth/sign-in/email", {
      email,
      password: "wrong-password",
    });
    expect(res.status).toBe(401);
  });
  it("a cross-site POST is refused", async () => {
    const res = await new TestClient(server, { origin: "https://evil.example" }).post(
      "/api/auth/sign-up/email",
      {
        email: "evil@example.com",
        password: "password-123",
        name: "evil",
      },
    );
    expect(res.status).toBe(403);
  });
});

describe("auth rate limiting", () => {
  it("answers 429 after too many sign-in attempts from one address", async () => {
    // The test client is on loopback: trusting it as a proxy lets it speak for a second client address.
    const limited = await startTestServer({ env: { AUTH_RATE_LIMIT: "on", TRUSTED_PROXIES: "127.0.0.1" } });
    try {
      const fresh = new TestClient(limited);
      const { email } = await fresh.signUp();
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        statuses.push(
          (
            await new TestClient(limited).post("/api/auth/sign-in/email", {
              email,
              password: "wrong-password",
            })
          ).status,
        );
      }
      expect(
        statuses.slice(0, 5).every((status) => status === 401),
        JSON.stringify(statuses),
      ).toBe(true);
      expect(statuses.at(-1), JSON.stringify(statuses)).toBe(429);
      // Another client address (as a trusted proxy reports it) is not affected by the first one's attempts.
      const other = await new TestClient(limited, { "x-forwarded-for": "198.51.100.7" }).post(
        "/api/auth/sign-in/email",
        {
          email,
          password: "wrong-password",
        },
      );
      expect(other.status).toBe(401);
    } finally {
      await limited.close();
    }
  });
});
