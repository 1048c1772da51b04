import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitForHttp } from "@vps-claude/testing/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "./browser-harness";

/**
 * The dashboard's same-origin proxy (`/rpc/**`, `next start`) in front of a stand-in API that
 * streams server-sent events and holds the stream open until the test says so: the browser side
 * must see the first event while the upstream is still going (nothing buffered, nothing gzipped),
 * and the proxy must let go of the upstream when the browser leaves.
 */

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");

interface Child {
  child: ChildProcess;
  output: string[];
}

function spawnNode(args: string[], env: NodeJS.ProcessEnv): Child {
  // detached: the child leads its own process group, so next-server grandchildren end with it.
  const child = spawn(process.execPath, args, {
    cwd: webDir,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    output.splice(0, Math.max(0, output.length - 200));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { child, output };
}

async function stopGroup({ child }: Child): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // The group is already gone.
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
  signal("SIGKILL");
}

/** The stand-in API: one SSE route that sends an event at once and the rest when released. */
let upstream: http.Server;
let upstreamUrl = "";
let releaseRest: () => void = () => {};
let upstreamClosed: Promise<void> = Promise.resolve();
let seenAcceptEncoding: string | undefined;
let web: Child | undefined;
let webUrl = "";

function sseBlock(id: number, data: unknown): string {
  return `id: ${id}\nevent: message\ndata: ${JSON.stringify(data)}\n\n`;
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seenAcceptEncoding = req.headers["accept-encoding"];
    if (!req.url?.startsWith("/rpc/box/box_1/runs/run_1/stream")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"message":"no"}');
      return;
    }
    let closedNow = () => {};
    upstreamClosed = new Promise((resolve) => {
      closedNow = resolve;
    });
    res.on("close", () => closedNow());
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(": \n\n");
    res.write(sseBlock(1, { seq: 1, type: "text", text: "first" }));
    releaseRest = () => {
      res.write(sseBlock(2, { seq: 2, type: "text", text: "second" }));
      res.end(`event: done\ndata: ${JSON.stringify({ id: "run_1", status: "completed" })}\n\n`);
    };
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  await ensureDashboardBuilt();
  const port = await freePort();
  webUrl = `http://127.0.0.1:${port}`;
  web = spawnNode([nextBin, "start", "-p", String(port), "-H", "127.0.0.1"], {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    SERVER_URL: upstreamUrl,
  });
  const started = web;
  // Any /rpc path answers once Next is up (the stand-in API says 404 to it).
  await waitForHttp(`${webUrl}/rpc/ready`, {
    timeoutMs: 60_000,
    alive: () => (started.child.exitCode === null ? undefined : `exited with code ${started.child.exitCode}`),
  }).catch((error: unknown) => {
    throw new Error(`next start: ${String(error)}\n${started.output.join("").slice(-4000)}`);
  });
}, 360_000);

afterAll(async () => {
  releaseRest();
  if (web) {
    await stopGroup(web);
  }
  await new Promise<void>((resolve) => upstream?.close(() => resolve()) ?? resolve());
});

async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  seen: { text: string },
  marker: string,
): Promise<void> {
  while (!seen.text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) {
      throw new Error(`the stream ended before '${marker}'; got: ${seen.text}`);
    }
    seen.text += value;
  }
}

describe("the dashboard's /rpc proxy and server-sent events", () => {
  it("passes each event through as it comes, uncompressed, then the end", async () => {
    const response = await fetch(`${webUrl}/rpc/box/box_1/runs/run_1/stream`, {
      // What a browser's EventSource sends; an SSE answer must not come back gzipped for all that.
      headers: { accept: "text/event-stream", "accept-encoding": "gzip, deflate, br" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("content-encoding")).toBeNull();
    expect(response.headers.get("cache-control")).toContain("no-transform");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    const body = response.body;
    if (!body) {
      throw new Error("the proxied stream has no body");
    }
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    const seen = { text: "" };

    // The upstream holds the rest until released: this event can only have come through unbuffered.
    await readUntil(reader, seen, '"first"');
    expect(seen.text).toContain("id: 1\nevent: message\n");
    expect(seen.text).not.toContain('"second"');

    releaseRest();
    await readUntil(reader, seen, "event: done");
    expect(seen.text).toContain('"second"');
    const { done } = await reader.read();
    expect(done).toBe(true);
    // The proxy asks the API for identity encoding, so nothing in between decodes and re-encodes.
    expect(seenAcceptEncoding).toBe("identity");
  });

  it("lets go of the upstream stream when the browser leaves", async () => {
    const leave = new AbortController();
    const response = await fetch(`${webUrl}/rpc/box/box_1/runs/run_1/stream`, {
      headers: { accept: "text/event-stream" },
      signal: leave.signal,
    });
    const body = response.body;
    if (!body) {
      throw new Error("the proxied stream has no body");
    }
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    await readUntil(reader, { text: "" }, '"first"');
    leave.abort();
    await reader.cancel().catch(() => {});
    // The API sees its subscriber go (and stops following), without the run having ended.
    await upstreamClosed;
  });
});
