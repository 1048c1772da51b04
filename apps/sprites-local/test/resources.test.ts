import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ServiceLogEvent } from "@fly/sprites";
import { createLogger } from "@vps-claude/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { niceForShares } from "../src/domain/resources/host.js";
import { createSpritesLocal, readSpritesLocalEnv } from "../src/index.js";
import { eventually, runScript as run, startHost, type TestHost } from "./helpers.js";

let host: TestHost;
const LOG_CAP = 64 * 1024;

async function drain(stream: AsyncIterable<ServiceLogEvent>): Promise<ServiceLogEvent[]> {
  const events: ServiceLogEvent[] = [];
  for await (const event of stream) {
    events.push(event);
  }
  return events;
}

function policyUrl(base: string, name: string): string {
  return `${base}/v1/sprites/${name}/policy/resources`;
}

async function post(base: string, token: string, name: string, body: unknown): Promise<Response> {
  return fetch(policyUrl(base, name), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  host = await startHost({ resources: { serviceLogBytes: LOG_CAP, defaults: { nofile: 2048 } } });
});

afterAll(async () => {
  await host.close();
});

describe("resource policy API", () => {
  it("reports the defaults, changes what it is given, and applies it to new processes", async () => {
    const sprite = await host.client.createSprite("pol-basic");
    const initial = await fetch(policyUrl(host.local.url, "pol-basic"), {
      headers: { authorization: `Bearer ${host.token}` },
    });
    const body = (await initial.json()) as Record<string, unknown>;
    expect(initial.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({
      memory_mb: 2048,
      cpu_shares: 1024,
      cpus: null,
      pids: 512,
      nofile: 2048,
      disk_mb: 10240,
    });
    // A policy is a record: reading it does not wake the sprite.
    expect((await host.client.getSprite("pol-basic")).status).toBe("cold");

    const changed = await post(host.local.url, host.token, "pol-basic", { nofile: 1000, cpus: 1.5 });
    const changedBody = (await changed.json()) as Record<string, unknown>;
    expect(changed.status, JSON.stringify(changedBody)).toBe(200);
    expect(changedBody).toMatchObject({ nofile: 1000, cpus: 1.5, memory_mb: 2048, applied: true });

    const limits = await run(sprite, "ulimit -n; ulimit -f");
    expect(limits.out).toBe(`1000\n${10240 * 1024}\n`);

    // null returns a field to the host default.
    const reset = await post(host.local.url, host.token, "pol-basic", { nofile: null });
    expect(((await reset.json()) as { nofile: number }).nofile).toBe(2048);
  });

  it("applies a new limit to processes already running", async () => {
    const sprite = await host.client.createSprite("pol-live");
    await drain(await sprite.createService("sleeper", { cmd: "sleep", args: ["1000"] }, "100ms"));
    const pid = (await sprite.getService("sleeper")).state?.pid;
    expect(pid).toBeGreaterThan(0);
    const openFiles = async () =>
      /Max open files\s+(\d+)\s+(\d+)/.exec(await fs.readFile(`/proc/${pid}/limits`, "utf8"))?.slice(1, 3);
    expect(await openFiles()).toEqual(["2048", "2048"]);
    expect((await post(host.local.url, host.token, "pol-live", { nofile: 777 })).status).toBe(200);
    // Read on the host: the running service itself (not a new exec) has the new limit.
    expect(await openFiles()).toEqual(["777", "777"]);
  });

  it("answers 400 with what was wrong for bad values", async () => {
    await host.client.createSprite("pol-bad");
    const cases: Array<[unknown, RegExp]> = [
      [{ memory_mb: "lots" }, /memory_mb must be an integer between 16 and 1048576 \(MiB\), got "lots"/],
      [{ pids: 3 }, /pids must be an integer between 16/],
      [{ cpus: -1 }, /cpus must be a number between 0\.01 and 1024 \(CPUs\) or null for no cap/],
      [{ disk_mb: 1.5 }, /disk_mb must be an integer/],
      [
        { ram_mb: 512 },
        /unknown field 'ram_mb'; the resource policy has memory_mb, cpu_shares, cpus, pids, nofile, disk_mb/,
      ],
      [[1, 2], /the request body must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const res = await post(host.local.url, host.token, "pol-bad", body);
      const json = (await res.json()) as { error: string; message: string };
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(json.error).toBe("invalid_request");
      expect(json.message).toMatch(message);
    }
    const missing = await post(host.local.url, host.token, "no-such-sprite", { pids: 100 });
    expect(missing.status).toBe(404);
  });

  it("persists the policy across a restart of sprites-local", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "sprites-local-resources-"));
    const token = randomBytes(16).toString("hex");
    const logger = createLogger({ name: "sprites-local-test", level: "silent" });
    try {
      const first = await createSpritesLocal({ dataDir, token, port: 0, logger });
      const create = await fetch(`${first.url}/v1/sprites`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "pol-kept" }),
      });
      expect(create.status).toBe(201);
      expect((await post(first.url, token, "pol-kept", { memory_mb: 512, pids: 256 })).status).toBe(200);
      await first.close();
      const second = await createSpritesLocal({ dataDir, token, port: 0, logger });
      try {
        const res = await fetch(policyUrl(second.url, "pol-kept"), {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(await res.json()).toMatchObject({ memory_mb: 512, pids: 256, nofile: 4096 });
      } finally {
        await second.close();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("resource configuration", () => {
  it("reads host defaults and caps from the environment and refuses bad values at startup", () => {
    const config = readSpritesLocalEnv(
      {
        SPRITES_LOCAL_TOKEN: "t",
        SPRITES_LOCAL_MEMORY_MB: "4096",
        SPRITES_LOCAL_CPUS: "2.5",
        SPRITES_LOCAL_MAX_READ_MB: "8",
        SPRITES_LOCAL_SERVICE_LOG_KB: "512",
      },
      "/tmp",
    );
    expect(config.resources).toEqual({
      defaults: { memory_mb: 4096, cpus: 2.5 },
      spritesCpuShares: 128,
      maxReadBytes: 8 * 1024 * 1024,
      serviceLogBytes: 512 * 1024,
    });
    expect(
      readSpritesLocalEnv({ SPRITES_LOCAL_TOKEN: "t", SPRITES_LOCAL_TOTAL_CPU_SHARES: "1024" }, "/tmp")
        .resources.spritesCpuShares,
    ).toBe(1024);
    expect(() =>
      readSpritesLocalEnv({ SPRITES_LOCAL_TOKEN: "t", SPRITES_LOCAL_TOTAL_CPU_SHARES: "1" }, "/tmp"),
    ).toThrow(/SPRITES_LOCAL_TOTAL_CPU_SHARES='1' must be an integer between 2 and 262144/);
    expect(() =>
      readSpritesLocalEnv({ SPRITES_LOCAL_TOKEN: "t", SPRITES_LOCAL_PIDS: "many" }, "/tmp"),
    ).toThrow(/SPRITES_LOCAL_PIDS='many': pids must be an integer between 16/);
    expect(() =>
      readSpritesLocalEnv({ SPRITES_LOCAL_TOKEN: "t", SPRITES_LOCAL_MAX_READ_MB: "0" }, "/tmp"),
    ).toThrow(/SPRITES_LOCAL_MAX_READ_MB='0' must be an integer between 1 and 256/);
  });

  it("maps the sprites' total CPU shares onto a nice value for hosts without a cpu cgroup", () => {
    expect([4096, 1024, 128, 2].map(niceForShares)).toEqual([0, 0, 9, 19]);
  });

  it("serves fs/read up to a configured cap", async () => {
    const small = await startHost({ resources: { maxReadBytes: 1024 } });
    try {
      const sprite = await small.client.createSprite("cap-small");
      await run(sprite, "head -c 1024 /dev/zero > ~/fits; head -c 1025 /dev/zero > ~/over");
      expect((await sprite.filesystem("/home/sprite").readFile("fits")).length).toBe(1024);
      const res = await fetch(`${small.local.url}/v1/sprites/cap-small/fs/read?path=/home/sprite/over`, {
        headers: { authorization: `Bearer ${small.token}` },
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { message: string }).message).toMatch(
        /^file is 1025 bytes; the limit is 1024 bytes/,
      );
    } finally {
      await small.close();
    }
  });
});

describe("service logs", () => {
  it("rotate at the byte cap and still serve the latest lines", async () => {
    const sprite = await host.client.createSprite("log-cap");
    const script =
      'for i in $(seq 1 6000); do echo "line $i ................................................"; done; echo last-line; exec sleep 1000';
    await drain(await sprite.createService("chatty", { cmd: "bash", args: ["-c", script] }, "0s"));
    const logFile = path.join(host.dataDir, "log-cap", "logs", "chatty.log");
    await eventually("the last line to reach the log", async () => {
      const text = await fs.readFile(logFile, "utf8").catch(() => "");
      return text.includes("last-line");
    });
    const current = (await fs.stat(logFile)).size;
    const previous = (await fs.stat(`${logFile}.1`)).size;
    // 6000 lines are ~400 KB: only the cap's worth (twice, with the rotated file) is kept.
    expect(current).toBeLessThanOrEqual(LOG_CAP);
    expect(previous).toBeLessThanOrEqual(LOG_CAP);
    expect(previous).toBeGreaterThan(LOG_CAP / 2);

    const logs = await drain(await sprite.getServiceLogs("chatty", { lines: 50 }));
    expect(
      logs
        .filter((event) => event.type === "stdout")
        .map((event) => event.data)
        .join(""),
    ).toContain("last-line");
  });
});
