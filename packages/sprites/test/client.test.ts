import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createLogger } from "@vps-claude/logger";
import { createSpritesLocal, type SpritesLocal } from "@vps-claude/sprites-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSpritesClient, type SpritesClient, SpritesError } from "../src/index.js";

const silent = createLogger({ name: "sprites-test", level: process.env.LOG_LEVEL ?? "silent" });
const fastRetry = { attempts: 4, baseDelayMs: 10, maxDelayMs: 50 };

let local: SpritesLocal;
let dataDir: string;
let token: string;
let client: SpritesClient;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "sprites-client-test-"));
  token = randomBytes(16).toString("hex");
  local = await createSpritesLocal({ dataDir, token, port: 0, idleMs: 60_000, logger: silent });
  client = createSpritesClient({ token, baseUrl: local.url, logger: silent, retry: fastRetry });
});

afterAll(async () => {
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

async function caught(promise: Promise<unknown>): Promise<SpritesError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SpritesError);
  return error as SpritesError;
}

describe("sprite lifecycle", () => {
  it("creates once and returns the same sprite afterwards", async () => {
    const first = await client.createOrGetSprite("life-one", { labels: ["box"] });
    expect(first.name).toBe("life-one");
    expect(first.url).toBe(`${local.proxyUrl}/proxy/life-one`);
    expect(first.urlAuth).toBe("sprite");
    const again = await client.createOrGetSprite("life-one");
    expect(again.id).toBe(first.id);
    expect((await client.getSprite("life-one"))?.labels).toEqual(["box"]);
  });

  it("answers null for a missing sprite and lists by prefix", async () => {
    expect(await client.getSprite("life-missing")).toBeNull();
    await client.createOrGetSprite("life-list-a");
    await client.createOrGetSprite("life-list-b");
    expect((await client.listSprites("life-list-")).map((s) => s.name)).toEqual([
      "life-list-a",
      "life-list-b",
    ]);
  });

  it("deletes idempotently", async () => {
    await client.createOrGetSprite("life-delete");
    await client.deleteSprite("life-delete");
    await client.deleteSprite("life-delete");
    expect(await client.getSprite("life-delete")).toBeNull();
  });

  it("reports invalid names clearly", async () => {
    const error = await caught(client.createOrGetSprite("Bad_Name"));
    expect(error.code).toBe("invalid_request");
    expect(error.status).toBe(400);
    expect(error.message).toContain("Bad_Name");
  });
});

describe("exec", () => {
  beforeAll(async () => {
    await client.createOrGetSprite("exec-box");
  });

  it("runs a script with bash -l and returns output and exit code, failures included", async () => {
    // A login shell reads ~/.profile, so what a deploy put there applies to later commands.
    await client.writeFile("exec-box", "/home/sprite/.profile", "export FROM_PROFILE=yes\n");
    const ok = await client.exec("exec-box", 'echo "out $FROM_PROFILE"; echo "err" >&2');
    expect(ok).toEqual({ exitCode: 0, stdout: "out yes\n", stderr: "err\n" });
    const failed = await client.exec("exec-box", "echo partial; exit 3");
    expect(failed).toEqual({ exitCode: 3, stdout: "partial\n", stderr: "" });
  });

  it("adds env values verbatim without losing the sprite's PATH", async () => {
    const tricky = 'it\'s $HOME `not run` "quoted"\nsecond line';
    const result = await client.exec("exec-box", 'printf "%s|" "$TRICKY" "$OTHER"; command -v bash', {
      env: { TRICKY: tricky, OTHER: "2" },
    });
    expect(result.stdout).toBe(`${tricky}|2|/usr/bin/bash\n`);
  });

  it("passes stdin and honours cwd", async () => {
    await client.exec("exec-box", "mkdir -p ~/project");
    const home = (await client.exec("exec-box", 'printf %s "$HOME"')).stdout;
    const result = await client.exec("exec-box", "pwd; tr a-z A-Z", {
      stdin: "shout\n",
      cwd: `${home}/project`,
    });
    expect(result.stdout).toBe(`${home}/project\nSHOUT\n`);
  });

  it("keeps quiet commands alive with a marker it strips from the output", async () => {
    const quick = createSpritesClient({
      token,
      baseUrl: local.url,
      logger: silent,
      keepaliveIntervalMs: 1000,
    });
    const result = await quick.exec("exec-box", "sleep 2.5; echo done");
    expect(result).toEqual({ exitCode: 0, stdout: "done\n", stderr: "" });
  });

  it("kills a command that runs past its timeout", async () => {
    const error = await caught(client.exec("exec-box", "echo started; sleep 30", { timeoutMs: 1000 }));
    expect(error.code).toBe("timeout");
    expect(error.retryable).toBe(false);
    expect(error.details?.stdout).toBe("started\n");
  });

  it("fails with not_found for a missing sprite", async () => {
    const error = await caught(client.exec("exec-nowhere", "true"));
    expect(error.code).toBe("not_found");
  });
});

describe("files", () => {
  beforeAll(async () => {
    await client.createOrGetSprite("files-box");
  });

  it("writes with a mode and reads back", async () => {
    await client.writeFile("files-box", "/home/sprite/app/config.json", '{"ok":true}', 0o600);
    expect((await client.readFile("files-box", "/home/sprite/app/config.json")).toString()).toBe(
      '{"ok":true}',
    );
    const mode = await client.exec("files-box", "stat -c %a ~/app/config.json");
    expect(mode.stdout.trim()).toBe("600");
  });

  it("maps filesystem errors", async () => {
    const missing = await caught(client.readFile("files-box", "/home/sprite/none.txt"));
    expect(missing.code).toBe("not_found");
    expect(missing.fsCode).toBe("ENOENT");
    const outside = await caught(client.writeFile("files-box", "/etc/evil", "x"));
    expect(outside.code).toBe("forbidden");
  });
});

describe("services and the sprite URL", () => {
  it("starts a service and reaches it through its public URL, without the account token", async () => {
    await client.createOrGetSprite("svc-box", { urlAuth: "public" });
    const port = await freePort();
    await client.writeFile(
      "svc-box",
      "/home/sprite/server.js",
      `require("node:http").createServer((req, res) => res.end(JSON.stringify({ url: req.url, auth: req.headers.authorization ?? null, env: process.env.SVC_MODE }))).listen(${port}, "127.0.0.1");`,
    );
    const { service, events } = await client.putService("svc-box", {
      name: "agent",
      cmd: "node",
      args: ["server.js"],
      env: { SVC_MODE: "test" },
      dir: "/home/sprite",
      httpPort: port,
    });
    expect(service.status).toBe("running");
    expect(service.httpPort).toBe(port);
    expect(events[0]?.type).toBe("started");

    const res = await client.waitForUrl("svc-box", {
      path: "/health?x=1",
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    expect(await res.json()).toEqual({ url: "/health?x=1", auth: null, env: "test" });

    // A private sprite URL still refuses callers without the token; the client never sends it there.
    await client.createOrGetSprite("svc-private");
    const direct = await fetch(`${local.proxyUrl}/proxy/svc-private/health`);
    expect(direct.status).toBe(401);
    await expect(client.fetchSprite("svc-private", "/health")).rejects.toMatchObject({ code: "forbidden" });

    expect((await client.getService("svc-box", "agent"))?.status).toBe("running");
    await client.deleteService("svc-box", "agent");
    await client.deleteService("svc-box", "agent");
    expect(await client.getService("svc-box", "agent")).toBeNull();
  });

  it("gives up waiting for a URL with a clear timeout", async () => {
    await client.createOrGetSprite("svc-silent", { urlAuth: "public" });
    const error = await caught(client.waitForUrl("svc-silent", { timeoutMs: 1000, intervalMs: 50 }));
    expect(error.code).toBe("timeout");
    expect(error.message).toContain("HTTP 502");
  });
});

describe("checkpoints", () => {
  it("checkpoints and restores", async () => {
    await client.createOrGetSprite("cp-box");
    await client.writeFile("cp-box", "/home/sprite/state", "one");
    const checkpoint = await client.checkpoint("cp-box", "before change");
    expect(checkpoint.id).toBe("v1");
    expect(checkpoint.comment).toBe("before change");
    await client.writeFile("cp-box", "/home/sprite/state", "two");
    expect((await client.listCheckpoints("cp-box")).map((c) => c.id)).toEqual(["v1"]);
    await client.restoreCheckpoint("cp-box", checkpoint.id);
    expect((await client.readFile("cp-box", "/home/sprite/state")).toString()).toBe("one");
  });
});

describe("errors and retries", () => {
  it("refuses a wrong token without retrying", async () => {
    let requests = 0;
    const proxy = await countingProxy(() => {
      requests += 1;
      return null;
    });
    try {
      const wrong = createSpritesClient({
        token: "wrong",
        baseUrl: proxy.url,
        logger: silent,
        retry: fastRetry,
      });
      const error = await caught(wrong.getSprite("anything"));
      expect(error.code).toBe("unauthorized");
      expect(error.status).toBe(401);
      expect(error.message).toMatch(/get sprite 'anything' failed/);
      expect(requests).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it("retries 5xx and 429 answers, then succeeds", async () => {
    let requests = 0;
    const proxy = await countingProxy(() => {
      requests += 1;
      if (requests === 1) {
        return { status: 503, body: { error: "unavailable", message: "try again" } };
      }
      if (requests === 2) {
        return {
          status: 429,
          body: { error: "rate_limited", message: "slow down" },
          headers: { "retry-after": "0" },
        };
      }
      return null;
    });
    try {
      const flaky = createSpritesClient({ token, baseUrl: proxy.url, logger: silent, retry: fastRetry });
      const sprite = await flaky.createOrGetSprite("retry-box");
      expect(sprite.name).toBe("retry-box");
      expect(requests).toBeGreaterThanOrEqual(3);
    } finally {
      await proxy.close();
    }
  });

  it("reports an unreachable API as a network error after its retries", async () => {
    const unreachable = createSpritesClient({
      token,
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      logger: silent,
      retry: fastRetry,
    });
    const error = await caught(unreachable.getSprite("x"));
    expect(error.code).toBe("network");
    expect(error.retryable).toBe(true);
    const exec = await caught(unreachable.exec("x", "true"));
    expect(exec.code).toBe("network");
  });
});

interface Injected {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A proxy in front of sprites-local that can answer some requests itself (the failure injection point). */
async function countingProxy(
  inject: () => Injected | null,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const injected = inject();
    if (injected) {
      res.writeHead(injected.status, { "content-type": "application/json", ...injected.headers });
      res.end(JSON.stringify(injected.body));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) {
      if (typeof value === "string" && key !== "host" && key !== "content-length") {
        headers.set(key, value);
      }
    }
    const upstream = await fetch(`${local.url}${req.url}`, {
      method: req.method,
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    res.writeHead(upstream.status, {
      "content-type": upstream.headers.get("content-type") ?? "application/json",
    });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = address && typeof address === "object" ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
