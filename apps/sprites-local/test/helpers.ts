import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Sprite } from "@fly/sprites";
import { createLogger } from "@vps-claude/logger";
import { WebSocket } from "ws";
import { createSpritesLocal, type SpritesLocal, type SpritesLocalOptions } from "../src/index.js";

// @fly/sprites needs a global WebSocket; Node 20 has none.
const scope = globalThis as { WebSocket?: unknown };
scope.WebSocket ??= WebSocket;

const { SpritesClient } = await import("@fly/sprites");

export interface TestHost {
  local: SpritesLocal;
  client: InstanceType<typeof SpritesClient>;
  token: string;
  dataDir: string;
  close(): Promise<void>;
}

/** A fresh sprites-local on a free port with its own data directory. */
export async function startHost(options: Partial<SpritesLocalOptions> = {}): Promise<TestHost> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "sprites-local-test-"));
  const token = randomBytes(16).toString("hex");
  const local = await createSpritesLocal({
    dataDir,
    token,
    port: 0,
    idleMs: 60_000,
    coldAfterMs: 60_000,
    logger: createLogger({ name: "sprites-local-test", level: process.env.LOG_LEVEL ?? "silent" }),
    ...options,
  });
  const client = new SpritesClient(token, { baseURL: local.url });
  return {
    local,
    client,
    token,
    dataDir,
    async close() {
      await local.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") {
          resolve(address.port);
        } else {
          reject(new Error("no port"));
        }
      });
    });
  });
}

/** Polls `check` until it returns a value (no fixed sleeps: how long things take is not asserted). */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
}

/** A tiny HTTP server script for services: answers with its start count and can stream. */
export function httpServerScript(port: number): string {
  return `
const fs = require("node:fs");
const http = require("node:http");
const countFile = process.env.HOME + "/starts-" + ${port};
const starts = (fs.existsSync(countFile) ? Number(fs.readFileSync(countFile, "utf8")) : 0) + 1;
fs.writeFileSync(countFile, String(starts));
let pending = null;
http.createServer((req, res) => {
  // /stream answers one chunk and finishes only when /release arrives: proves the proxy does not buffer.
  if (req.url === "/stream") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("first\\n");
    pending = res;
    return;
  }
  if (req.url === "/release" && pending) {
    pending.end("second\\n");
    pending = null;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ path: req.url, starts, authorization: req.headers.authorization ?? null }));
}).listen(${port}, "127.0.0.1");
`;
}

/**
 * Runs a bash script in a sprite and returns its exit code and output (stdout and stderr, in order),
 * failures included. Output past 64 KiB is dropped: a fork bomb prints a line per failed fork.
 */
export async function runScript(sprite: Sprite, script: string): Promise<{ code: number; out: string }> {
  const command = sprite.spawn("bash", ["-c", script]);
  const chunks: Buffer[] = [];
  let kept = 0;
  const keep = (chunk: Buffer) => {
    if (kept < 64 * 1024) {
      chunks.push(chunk);
      kept += chunk.length;
    }
  };
  command.stdout.on("data", keep);
  command.stderr.on("data", keep);
  const code = await command.wait();
  return { code, out: Buffer.concat(chunks).toString("utf8") };
}
