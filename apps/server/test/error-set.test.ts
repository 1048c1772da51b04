import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { API_ERROR_STATUS, isApiErrorCode } from "@vps-claude/api";
import { generateWebhookSecret, signedWebhook } from "@vps-claude/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./harness";

const SERVER_SRC = fileURLToPath(new URL("../src/", import.meta.url));
const API_SRC = fileURLToPath(new URL("../../../packages/api/src/", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
    .map((file) => join(dir, file));
}

/** Asserts one error answer: a code of the closed set, `{ code, status, message }`, status matching the code. */
async function expectApiError(res: Response, expected: { code: string; status: number }) {
  const text = await res.text();
  const body = JSON.parse(text) as { code?: unknown; status?: unknown; message?: unknown };
  expect(isApiErrorCode(body.code), `code outside the closed set: ${text}`).toBe(true);
  expect({ code: body.code, status: body.status, http: res.status }, text).toEqual({
    code: expected.code,
    status: expected.status,
    http: expected.status,
  });
  expect(typeof body.message === "string" && body.message.length > 0, text).toBe(true);
  expect(API_ERROR_STATUS[body.code as keyof typeof API_ERROR_STATUS]).toBe(res.status);
}

describe("the source answers only codes of the closed set", () => {
  it("no Hono route writes an error body by hand, and every literal code is in the set", () => {
    const offenders: string[] = [];
    for (const file of [...sourceFiles(SERVER_SRC), ...sourceFiles(API_SRC)]) {
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/\bcode:\s*"([A-Z][A-Z_]*)"/g)) {
        if (!isApiErrorCode(match[1])) {
          offenders.push(`${file}: code "${match[1]}"`);
        }
      }
      for (const match of text.matchAll(/(?:new ORPCError|errorResponse)\((?:c,\s*)?"([A-Z_]+)"/g)) {
        if (!isApiErrorCode(match[1])) {
          offenders.push(`${file}: ${match[0]}`);
        }
      }
      // The gateway answers in the Anthropic API's shape on purpose; every other route goes through errorResponse.
      if (file.startsWith(SERVER_SRC) && !file.endsWith("model-gateway.ts")) {
        for (const match of text.matchAll(/c\.json\(\s*\{\s*code:/g)) {
          offenders.push(`${file}: ${match[0]} (use errorResponse)`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe("every route answers errors in one shape from one closed set", () => {
  let server: TestServer;
  let configured: TestServer;
  const secret = generateWebhookSecret();

  beforeAll(async () => {
    server = await startTestServer();
    // Resend's API on a port nothing listens on: the webhook cannot fetch the email.
    configured = await startTestServer({
      env: {
        RESEND_API_KEY: "re_test",
        RESEND_BASE_URL: "http://127.0.0.1:9",
        RESEND_WEBHOOK_SECRET: secret,
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await configured?.close();
  });

  it("unknown paths are NOT_FOUND, under /rpc, /box and elsewhere", async () => {
    await expectApiError(await fetch(`${server.url}/nothing-here`), { code: "NOT_FOUND", status: 404 });
    await expectApiError(await fetch(`${server.url}/rpc/nothing-here`), { code: "NOT_FOUND", status: 404 });
    await expectApiError(await fetch(`${server.url}/box/nothing-here`), { code: "NOT_FOUND", status: 404 });
  });

  it("procedures answer UNAUTHORIZED in the same shape", async () => {
    await expectApiError(await fetch(`${server.url}/rpc/box`), { code: "UNAUTHORIZED", status: 401 });
    await expectApiError(await fetch(`${server.url}/box/agent-config?triggerType=chat`), {
      code: "UNAUTHORIZED",
      status: 401,
    });
  });

  it("a cross-site cookie write is FORBIDDEN", async () => {
    const res = await fetch(`${server.url}/rpc/box`, {
      method: "POST",
      headers: {
        cookie: "better-auth.session_token=whatever",
        origin: "https://evil.example",
        "content-type": "application/json",
      },
      body: "{}",
    });
    await expectApiError(res, { code: "FORBIDDEN", status: 403 });
  });

  it("the inbound webhook: not configured, bad signature, bad body, Resend unreachable", async () => {
    const post = (target: TestServer, body: string, headers: object) =>
      fetch(`${target.url}/webhooks/inbound-email`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    await expectApiError(await post(server, "{}", {}), { code: "SERVICE_UNAVAILABLE", status: 503 });
    await expectApiError(await post(configured, "{}", {}), { code: "UNAUTHORIZED", status: 401 });
    const malformed = signedWebhook({ secret, payload: "{not json" });
    await expectApiError(await post(configured, malformed.body, malformed.headers), {
      code: "BAD_REQUEST",
      status: 400,
    });
    const noEmailId = signedWebhook({ secret, payload: { type: "email.received", data: {} } });
    await expectApiError(await post(configured, noEmailId.body, noEmailId.headers), {
      code: "BAD_REQUEST",
      status: 400,
    });
    const unreachable = signedWebhook({
      secret,
      payload: { type: "email.received", data: { email_id: "em_unreachable" } },
    });
    await expectApiError(await post(configured, unreachable.body, unreachable.headers), {
      code: "BAD_GATEWAY",
      status: 502,
    });
  });

  // Last: the server closes the connection mid-upload, which the client pool would otherwise reuse.
  it("an oversized body is PAYLOAD_TOO_LARGE", async () => {
    const res = await fetch(`${server.url}/rpc/box`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(3 * 1024 * 1024) }),
    });
    await expectApiError(res, { code: "PAYLOAD_TOO_LARGE", status: 413 });
  });
});
