import { rmSync } from "node:fs";
import { join } from "node:path";
import { type FakeAnthropic, startFakeAnthropic } from "@vps-claude/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inboundEmail } from "./emails";
import { type FakePlatform, startFakePlatform } from "./fake-platform";
import { buildTestBundle, NODE_MODULES, startBundleProcess, writeBoxHome } from "./harness";
import { boxClient, runRequest, runToEnd } from "./runs";

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

function startBundle(home: string, env: Record<string, string> = {}) {
  return startBundleProcess(bundle.bundle, home, env);
}

describe("the box-agent bundle", () => {
  it("serves and runs Claude from a lone file, with its two external packages found through NODE_PATH", async () => {
    const { child, exited, port: listening } = startBundle(newHome(), { NODE_PATH: NODE_MODULES });
    const url = `http://127.0.0.1:${await listening}`;
    const box = boxClient(() => url, platform.boxSecret);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, boxId: platform.boxId, version: "0.0.0" });
    expect((await fetch(`${url}/sessions/list`)).status).toBe(401);

    const { end } = await runToEnd(box, runRequest({ contextId: "bundle", message: "hi from the sandbox" }));
    expect(end, JSON.stringify(end)).toMatchObject({
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
    const { code, stderr } = await startBundle(newHome()).exited;
    expect(code).toBe(1);
    expect(stderr).toContain("box-agent needs the package 'better-sqlite3'");
    expect(stderr).toContain("NODE_PATH");
  });

  it("stops at boot naming what is missing when it is not configured", async () => {
    const home = newHome();
    rmSync(join(home, ".box-agent", "config.json"));
    const { code, stderr } = await startBundle(home, { NODE_PATH: NODE_MODULES }).exited;
    expect(code).toBe(1);
    expect(stderr).toContain("box-agent is not configured: missing boxId (env BOX_ID)");
  });
});
