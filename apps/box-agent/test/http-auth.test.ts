import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vps-claude/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BoxAgent, createBoxAgent } from "../src/box-agent";
import { loadConfig } from "../src/config";
import type { SessionStore } from "../src/session-store";

const SECRET = "0123456789abcdef".repeat(4);
let home: string;
let store: SessionStore;
let app: BoxAgent["app"];

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), "box-agent-auth-"));
  const config = loadConfig({
    BOX_AGENT_HOME: home,
    BOX_ID: "box_auth",
    BOX_SECRET: SECRET,
    // Nothing listens there: a request that got past auth and started a run would fail loudly.
    SERVER_URL: "http://127.0.0.1:9",
  });
  const agent = createBoxAgent({
    config,
    mcpCommand: { command: process.execPath, args: [] },
    logger: createLogger({ name: "box-agent-test", level: "silent" }),
    version: "test",
  });
  store = agent.store;
  app = agent.app;
});

afterAll(() => {
  store.close();
  rmSync(home, { recursive: true, force: true });
});

const PROTECTED: Array<[method: string, path: string, body?: unknown]> = [
  ["GET", "/sessions/list"],
  ["POST", "/runs", { runId: "run_1" }],
  ["GET", "/runs/run_1"],
  ["GET", "/runs/run_1/events"],
  ["POST", "/runs/run_1/cancel"],
  ["POST", "/email/receive", { id: "email_1" }],
  ["GET", "/email/list"],
  ["GET", "/email/email_1"],
  ["POST", "/email/email_1/read"],
  ["POST", "/email/send", { to: ["a@example.com"], subject: "s", body: "b" }],
  ["GET", "/no-such-route"],
];

function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  return app.request(path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe("box-agent HTTP auth", () => {
  it("serves /health without a token", async () => {
    const res = await call("GET", "/health");
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ ok: true, boxId: "box_auth", version: "test" });
    expect(typeof body.uptime).toBe("number");
  });

  it.each(PROTECTED)("rejects %s %s without a token", async (method, path, body) => {
    const res = await call(method, path, {}, body);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      code: "UNAUTHORIZED",
      message: "missing or wrong x-box-secret header",
    });
    expect(existsSync(join(home, ".inbox")), "nothing reaches the inbox").toBe(false);
  });

  it.each(PROTECTED)("rejects %s %s with a wrong token", async (method, path, body) => {
    for (const wrong of [SECRET.replace(/.$/, "0"), SECRET.slice(0, 10), `${SECRET}00`, ""]) {
      const res = await call(method, path, { "x-box-secret": wrong }, body);
      expect(res.status, `token '${wrong}'`).toBe(401);
    }
  });

  it("accepts the box token", async () => {
    const res = await call("GET", "/sessions/list", { "X-Box-Secret": SECRET });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sessions: [] });
  });

  it("answers invalid bodies with 400 and a message naming the field, without starting a run", async () => {
    const headers = { "x-box-secret": SECRET };
    const missing = await call("POST", "/runs", headers, { runId: "run_1", trigger: "chat" });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as { code: string; message: string };
    expect(body.code).toBe("BAD_REQUEST");
    expect(body.message).toContain("contextId");

    const badType = await call("POST", "/runs", headers, {
      runId: "run_1",
      trigger: "chat",
      contextType: "chat",
      contextId: "c",
      task: { kind: "message", message: "m" },
      agent: { model: "m", systemPrompt: "" },
      limits: {},
    });
    expect(badType.status).toBe(400);
    expect(((await badType.json()) as { message: string }).message).toContain("contextType");

    const notJson = await app.request("/runs", { method: "POST", headers, body: "{" });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { message: string }).message).toBe("the request body must be JSON");

    expect(store.listContexts()).toEqual([]);
  });
});
