import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type FakeAnthropic, startFakeAnthropic } from "@vps-claude/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunOutcome } from "../src/agent/runner";
import { inboundEmail } from "./emails";
import { type FakePlatform, startFakePlatform } from "./fake-platform";
import { buildTestBundle, writeBoxHome } from "./harness";

/** The workspace's node_modules, standing in for the read-only one a sandbox is pointed at. */
const NODE_MODULES = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "node_modules");

let bundle: Awaited<ReturnType<typeof buildTestBundle>>;
let fake: FakeAnthropic;
let platform: FakePlatform;
const homes: string[] = [];

beforeAll(async () => {
  bundle = await buildTestBundle();
  fake = await startFakeAnthropic({ respond: (conversation) => `bundled: ${conversation.lastUserText()}` });
  platform = await startFakePlatform();
});

afterAll(async () => {
  await fake.close();
  await platform.close();
  rmSync(bundle.dir, { recursive: true, force: true });
  for (const home of homes) {
    rmSync(home, { recursive: true, force: true });
  }
});

function newHome(): string {
  const home = writeBoxHome({ platform, anthropicUrl: fake.url });
  homes.push(home);
  return home;
}

function startBundle(home: string, env: Record<string, string> = {}): ChildProcess {
  // Only what a sandbox would have: no inherited test env, HOME is the box's home.
  return spawn(process.execPath, [bundle.bundle, "serve"], {
    cwd: home,
    env: { PATH: process.env.PATH, HOME: home, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
}

/** The daemon logs one JSON line with its port once it listens. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const stdout = child.stdout;
    if (stdout === null) {
      reject(new Error("no stdout"));
      return;
    }
    const lines = createInterface({ input: stdout });
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === "box-agent listening" && typeof entry.port === "number") {
          resolve(entry.port);
        }
      } catch {
        // Not a log line.
      }
    });
    child.once("exit", (code) => reject(new Error(`box-agent exited with ${code} before listening`)));
  });
}

describe("the box-agent bundle", () => {
  it("serves and runs Claude from a lone file, with its two external packages found through NODE_PATH", async () => {
    const child = startBundle(newHome(), { NODE_PATH: NODE_MODULES });
    const exited = exitOf(child);
    const port = await listeningPort(child);
    const url = `http://127.0.0.1:${port}`;

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, boxId: platform.boxId, version: "0.0.0" });
    expect((await fetch(`${url}/sessions/list`)).status).toBe(401);

    const res = await fetch(`${url}/sessions/send`, {
      method: "POST",
      headers: { "x-box-secret": platform.boxSecret, "content-type": "application/json" },
      body: JSON.stringify({ contextId: "bundle", message: "hi from the sandbox" }),
    });
    const outcome = (await res.json()) as RunOutcome;
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      status: "completed",
      result: "bundled: hi from the sandbox",
    });

    const email = inboundEmail();
    const received = await fetch(`${url}/email/receive`, {
      method: "POST",
      headers: {
        "x-box-secret": platform.boxSecret,
        "content-type": "application/json",
        "idempotency-key": email.id,
      },
      body: JSON.stringify(email),
    });
    expect(received.status, await received.clone().text()).toBe(202);
    const listed = await fetch(`${url}/email/list`, { headers: { "x-box-secret": platform.boxSecret } });
    expect(await listed.json()).toMatchObject({ emails: [{ id: email.id, read: false }] });

    child.kill("SIGTERM");
    const { code, stderr } = await exited;
    expect(code, stderr).toBe(0);
  });

  it("stops at boot with a clear message when its external packages cannot be found", async () => {
    const child = startBundle(newHome());
    const { code, stderr } = await exitOf(child);
    expect(code).toBe(1);
    expect(stderr).toContain("box-agent needs the package 'better-sqlite3'");
    expect(stderr).toContain("NODE_PATH");
  });

  it("stops at boot naming what is missing when it is not configured", async () => {
    const home = newHome();
    rmSync(join(home, ".box-agent", "config.json"));
    const { code, stderr } = await exitOf(startBundle(home, { NODE_PATH: NODE_MODULES }));
    expect(code).toBe(1);
    expect(stderr).toContain("box-agent is not configured: missing boxId (env BOX_ID)");
  });
});
