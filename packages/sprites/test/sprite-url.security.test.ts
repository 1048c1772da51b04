import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createLogger } from "@vps-claude/logger";
import { createSpritesLocal, type SpritesLocal } from "@vps-claude/sprites-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BodyTooLargeError,
  createSpritesClient,
  readBoundedBody,
  type SpritesClient,
  SpritesError,
} from "../src/index.js";

/**
 * What reaches a sprite URL is the sprite's own program, which may be hostile: it must never see
 * the Sprites account token, and its redirects must lead nowhere.
 */
const silent = createLogger({ name: "sprites-url-test", level: process.env.LOG_LEVEL ?? "silent" });
const fastRetry = { attempts: 2, baseDelayMs: 10, maxDelayMs: 50 };
const HOME = "/home/sprite";

let local: SpritesLocal;
let dataDir: string;
let token: string;
let client: SpritesClient;
/** A loopback server standing in for whatever a redirect points at; it must receive nothing. */
let trap: http.Server;
let trapUrl: string;
const trapHits: string[] = [];

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "sprites-url-test-"));
  token = randomBytes(16).toString("hex");
  local = await createSpritesLocal({ dataDir, token, port: 0, idleMs: 60_000, logger: silent });
  client = createSpritesClient({ token, baseUrl: local.url, logger: silent, retry: fastRetry });
  trap = http.createServer((req, res) => {
    trapHits.push(`${req.method} ${req.url}`);
    res.end("{}");
  });
  await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => trap.close(() => resolve()));
  await local.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** A service that logs every request it gets and answers what `plan.json` says for the path. */
const RECORDER = `
const http = require("node:http");
const fs = require("node:fs");
const [port, dir] = process.argv.slice(2);
http.createServer((req, res) => {
  fs.appendFileSync(dir + "/requests.log", JSON.stringify({ method: req.method, url: req.url, headers: req.headers }) + "\\n");
  let plan = {};
  try { plan = JSON.parse(fs.readFileSync(dir + "/plan.json", "utf8")); } catch {}
  const answer = plan[req.url.split("?")[0]] ?? { status: 200, headers: { "content-type": "application/json" }, body: "{}" };
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body ?? "");
}).listen(Number(port), "127.0.0.1");
`;

async function recordingSprite(name: string, plan: Record<string, unknown> = {}) {
  await client.createOrGetSprite(name, { urlAuth: "public" });
  const port = await freePort();
  await client.writeFile(name, `${HOME}/recorder.js`, RECORDER);
  await client.writeFile(name, `${HOME}/plan.json`, JSON.stringify(plan));
  await client.putService(name, {
    name: "recorder",
    cmd: "node",
    args: ["recorder.js", String(port), HOME],
    dir: HOME,
    httpPort: port,
  });
  await client.waitForUrl(name, { path: "/ready", timeoutMs: 15_000, intervalMs: 100 });
}

async function requestsSeen(name: string): Promise<Array<{ url: string; headers: Record<string, string> }>> {
  const log = (await client.readFile(name, `${HOME}/requests.log`).catch(() => Buffer.alloc(0))).toString();
  return log
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { url: string; headers: Record<string, string> });
}

describe("fetchSprite", () => {
  it("sends no account token to the sprite", async () => {
    await recordingSprite("url-token");
    const res = await client.fetchSprite("url-token", "/anything", {
      headers: { "x-box-secret": "the-box-token" },
    });
    expect(res.status).toBe(200);
    const seen = await requestsSeen("url-token");
    const call = seen.find((request) => request.url === "/anything");
    expect(call, JSON.stringify(seen)).toBeDefined();
    expect(call?.headers.authorization).toBeUndefined();
    expect(call?.headers["x-box-secret"]).toBe("the-box-token");
    // Not under any header name either.
    expect(JSON.stringify(seen)).not.toContain(token);
  });

  it("refuses a sprite whose URL is private instead of sending the token", async () => {
    await client.createOrGetSprite("url-private");
    expect((await client.getSprite("url-private"))?.urlAuth).toBe("sprite");
    const error = await client.fetchSprite("url-private", "/health").then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SpritesError);
    expect((error as SpritesError).code).toBe("forbidden");
    expect((error as SpritesError).message).toContain("never sent to a sprite URL");
  });

  it("switches an existing private sprite to a public URL when asked", async () => {
    await client.createOrGetSprite("url-switch");
    const switched = await client.createOrGetSprite("url-switch", { urlAuth: "public" });
    expect(switched.urlAuth).toBe("public");
    expect((await client.getSprite("url-switch"))?.urlAuth).toBe("public");
  });

  it("hands a redirect back instead of following it, same origin or not", async () => {
    await recordingSprite("url-redirect", {
      "/same-origin": {
        status: 307,
        headers: { location: `/v1/sprites/url-token/fs/read?path=${HOME}/plan.json` },
      },
      "/api-origin": {
        status: 307,
        headers: { location: `${local.url}/v1/sprites/url-token/exec?cmd=touch&cmd=${HOME}/pwned` },
      },
      "/cross-origin": { status: 302, headers: { location: `${trapUrl}/latest/meta-data/` } },
    });
    for (const pathname of ["/same-origin", "/api-origin", "/cross-origin"]) {
      const res = await client.fetchSprite("url-redirect", pathname, { method: "POST", body: "{}" });
      expect([302, 307], pathname).toContain(res.status);
      await res.body?.cancel();
    }
    expect(trapHits).toEqual([]);
    await expect(client.readFile("url-token", `${HOME}/pwned`)).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("the wrapper's own Sprites API calls", () => {
  it("do not follow a redirect from the API", async () => {
    const api = http.createServer((req, res) => {
      res.writeHead(307, { location: `${trapUrl}${req.url}` });
      res.end();
    });
    await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
    try {
      const redirected = createSpritesClient({
        token,
        baseUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
        logger: silent,
        retry: fastRetry,
      });
      const error = await redirected.getNetworkPolicy("any").then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SpritesError);
      expect((error as SpritesError).message).toContain("redirect");
      expect(trapHits).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => api.close(() => resolve()));
    }
  });
});

describe("network policy", () => {
  it("sets and reads back the rules of a sprite", async () => {
    await client.createOrGetSprite("policy-box", { urlAuth: "public" });
    expect(await client.getNetworkPolicy("policy-box")).toEqual([]);
    const rules = [
      { action: "allow" as const, domain: "example.com" },
      { action: "allow" as const, domain: "*.example.org" },
      { action: "deny" as const, domain: "*" },
    ];
    await client.setNetworkPolicy("policy-box", rules);
    expect(await client.getNetworkPolicy("policy-box")).toEqual(rules);
    await client.setNetworkPolicy("policy-box", []);
    expect(await client.getNetworkPolicy("policy-box")).toEqual([]);
  });

  it("reports an unknown sprite and a refused rule clearly", async () => {
    const missing = await client.getNetworkPolicy("policy-missing").then(
      () => null,
      (e: unknown) => e,
    );
    expect((missing as SpritesError).code).toBe("not_found");
    await client.createOrGetSprite("policy-bad");
    const refused = await client
      .setNetworkPolicy("policy-bad", [{ action: "allow", domain: "http://x/y" }])
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect((refused as SpritesError).code).toBe("invalid_request");
    expect((refused as SpritesError).message).toContain("HTTP 400");
  });
});

describe("readBoundedBody", () => {
  it("stops reading at the limit and cancels the stream", async () => {
    let cancelled = false;
    let pulls = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
      cancel() {
        cancelled = true;
      },
    });
    const error = await readBoundedBody(new Response(endless), 1024 * 1024).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect(cancelled).toBe(true);
    expect(pulls).toBeLessThan(40);
  });

  it("refuses an announced length over the limit without reading", async () => {
    const res = new Response("x".repeat(2048), { headers: { "content-length": "2048" } });
    await expect(readBoundedBody(res, 1024)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect((await readBoundedBody(new Response("small"), 1024)).toString()).toBe("small");
  });
});
