import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vps-claude/logger";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AgentRunner } from "../src/agent/runner";
import { type BoxAgent, createBoxAgent } from "../src/box-agent";
import { type BoxAgentConfig, loadConfig } from "../src/config";
import type { SessionStore } from "../src/session-store";
import { inboundEmail } from "./emails";
import { type FakePlatform, startFakePlatform } from "./fake-platform";

/** The email routes' error paths, on the app itself: none of these may start a Claude run. */

let home: string;
let platform: FakePlatform;
let config: BoxAgentConfig;
let store: SessionStore;
let runner: AgentRunner;
let app: BoxAgent["app"];

function buildApp(serverUrl: string): void {
  config = loadConfig({
    BOX_AGENT_HOME: home,
    BOX_ID: platform.boxId,
    BOX_SECRET: platform.boxSecret,
    SERVER_URL: serverUrl,
  });
  const agent = createBoxAgent({
    config,
    mcpCommand: { command: process.execPath, args: [] },
    logger: createLogger({ name: "box-agent-test", level: "silent" }),
    version: "test",
  });
  store = agent.store;
  runner = agent.runner;
  app = agent.app;
}

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "box-agent-email-http-"));
  platform = await startFakePlatform();
  buildApp(platform.url);
});

afterEach(async () => {
  await runner.shutdown();
  store.close();
  await platform.close();
  rmSync(home, { recursive: true, force: true });
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return app.request(path, {
    method: "POST",
    headers: { "x-box-secret": platform.boxSecret, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { code: string; message: string };
  return { status: res.status, ...body };
}

function inboxFiles(): string[] {
  const dir = join(home, ".inbox");
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe("POST /email/receive errors", () => {
  it("names the field that is wrong", async () => {
    const { from: _from, ...noSender } = inboundEmail();
    const missing = await errorOf(await post("/email/receive", noSender));
    expect(missing.status).toBe(400);
    expect(missing.code).toBe("BAD_REQUEST");
    expect(missing.message).toContain("from");

    const badDate = await errorOf(await post("/email/receive", inboundEmail({ receivedAt: "yesterday" })));
    expect(badDate.message).toContain("receivedAt must be an ISO 8601 date-time");

    const notJson = await errorOf(await post("/email/receive", "{"));
    expect(notJson).toMatchObject({ status: 400, message: "the request body must be JSON" });
    expect(inboxFiles()).toEqual([]);
    expect(store.listContexts()).toEqual([]);
  });

  it("refuses an Idempotency-Key that is not the email's id", async () => {
    const email = inboundEmail();
    const res = await errorOf(await post("/email/receive", email, { "idempotency-key": "email_other" }));
    expect(res.status).toBe(400);
    expect(res.message).toBe(
      `the Idempotency-Key header ('email_other') must be the email's id ('${email.id}')`,
    );
    expect(inboxFiles()).toEqual([]);
  });

  it("answers 503 and stores nothing once the daemon is shutting down, so the platform retries", async () => {
    await runner.shutdown();
    const email = inboundEmail();
    const res = await errorOf(await post("/email/receive", email, { "idempotency-key": email.id }));
    expect(res).toMatchObject({ status: 503, code: "SHUTTING_DOWN" });
    expect(inboxFiles()).toEqual([]);
  });
});

describe("POST /email/send", () => {
  it("passes the platform's 202 and its refusals through as they are", async () => {
    const accepted = await post("/email/send", { to: ["bob@example.com"], subject: "Hi", body: "Hello" });
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({
      id: "email_out1",
      status: "queued",
      messageId: "<out-1@agents.localhost>",
      threadId: "<out-1@agents.localhost>",
      subject: "Hi",
    });
    expect(platform.requests.at(-1)).toMatchObject({
      method: "POST",
      path: "/box/email/send",
      body: { to: ["bob@example.com"], subject: "Hi", body: "Hello" },
    });
    expect(platform.requests.at(-1)?.headers["x-box-secret"]).toBe(platform.boxSecret);

    expect(await errorOf(await post("/email/send", { to: ["bob@example.com"], body: "Hello" }))).toEqual({
      status: 400,
      code: "BAD_REQUEST",
      message: "subject: a new email needs a subject (replies may leave it out)",
    });
    expect(
      await errorOf(
        await post("/email/send", { to: ["bob@example.com"], body: "b", replyToEmailId: "email_x" }),
      ),
    ).toEqual({ status: 404, code: "NOT_FOUND", message: "email email_x not found" });

    platform.setEmailSendFailure({
      status: 429,
      body: { code: "TOO_MANY_REQUESTS", message: "this box has sent 30 emails in the last hour, its limit" },
    });
    expect(
      await errorOf(await post("/email/send", { to: ["b@example.com"], subject: "s", body: "b" })),
    ).toEqual({
      status: 429,
      code: "TOO_MANY_REQUESTS",
      message: "this box has sent 30 emails in the last hour, its limit",
    });
  });

  it("answers 502 when the platform cannot be reached, and 400 for a body that is not a JSON object", async () => {
    expect((await errorOf(await post("/email/send", [1, 2]))).status).toBe(400);
    await runner.shutdown();
    store.close();
    // Nothing listens there.
    buildApp("http://127.0.0.1:9");
    const res = await errorOf(await post("/email/send", { to: ["b@example.com"], subject: "s", body: "b" }));
    expect(res.status).toBe(502);
    expect(res.code).toBe("BAD_GATEWAY");
    expect(res.message).toContain(
      "could not reach the platform at http://127.0.0.1:9 (POST /box/email/send)",
    );
  });
});
