import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { ServiceLogEvent } from "@fly/sprites";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SPRITES_CPU_SHARES } from "../src/domain/resources/host.js";
import {
  eventually,
  freePort,
  httpServerScript,
  runScript as run,
  startHost,
  type TestHost,
} from "./helpers.js";

/**
 * Abuse from inside one sprite (huge file reads, fork bomb, memory hog, fallocate, filling the disk) stays
 * inside that sprite: a neighbour keeps answering and the host keeps its memory and disk. sprites-local
 * runs in its production confinement mode (bubblewrap, own uid, cgroups as this host allows).
 */

let host: TestHost;
let neighbourUrl: string;

/** What a neighbour's `/health` takes; the bar is 100 ms. */
const HEALTH_BUDGET_MS = 100;

async function drain(stream: AsyncIterable<ServiceLogEvent>): Promise<void> {
  for await (const _event of stream) {
    // Only waiting for the start window to end.
  }
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${host.local.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${host.token}`, "content-type": "application/json", ...init.headers },
  });
}

async function setResources(name: string, policy: Record<string, unknown>): Promise<void> {
  const res = await api(`/v1/sprites/${name}/policy/resources`, {
    method: "POST",
    body: JSON.stringify(policy),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function usage(name: string): Promise<{ memory_mb: number | null; pids: number | null }> {
  const res = await api(`/v1/sprites/${name}/policy/resources`);
  return ((await res.json()) as { usage: { memory_mb: number | null; pids: number | null } }).usage;
}

/** One timed request to the neighbour's `/health`. */
async function healthMs(): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${neighbourUrl}/health`, { headers: { authorization: `Bearer ${host.token}` } });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return performance.now() - started;
}

/** The median of `samples` timed requests, spaced 50 ms apart. */
async function medianHealthMs(samples: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    times.push(await healthMs());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [...times].sort((a, b) => a - b)[Math.floor(samples / 2)] ?? Number.POSITIVE_INFINITY;
}

/**
 * Samples the neighbour while `abuse` runs. Every sample must answer; the median must meet the
 * 100 ms bar and the slowest stays within a generous margin. The bar is measured against the same
 * neighbour just before the abuse: on an idle machine it is the 100 ms; when other work
 * (not this sprite) loads the machine, it is three times the quiet median — a neighbour starved by
 * an unconfined bomb or hog takes seconds, far past either.
 */
async function neighbourDuring<T>(
  startAbuse: () => Promise<T>,
  samples = 8,
): Promise<{ result: T; times: number[] }> {
  const quietMedian = await medianHealthMs(8);
  const budget = Math.max(HEALTH_BUDGET_MS, 3 * quietMedian);
  let done = false;
  const watched = startAbuse().finally(() => {
    done = true;
  });
  const times: number[] = [];
  while (times.length < samples || (!done && times.length < 200)) {
    times.push(await healthMs());
    if (done && times.length >= samples) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const result = await watched;
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.POSITIVE_INFINITY;
  const described = `neighbour /health times (ms): ${times.map((t) => t.toFixed(1)).join(", ")}; quiet median ${quietMedian.toFixed(1)} ms`;
  expect(median, described).toBeLessThan(budget);
  expect(sorted.at(-1), described).toBeLessThan(10 * budget);
  return { result, times };
}

beforeAll(async () => {
  host = await startHost({ resources: { diskCheckMs: 300 } });
  const neighbour = await host.client.createSprite("res-neighbour");
  const port = await freePort();
  await neighbour.filesystem("/home/sprite").writeFile("server.js", httpServerScript(port));
  await drain(
    await neighbour.createService("web", { cmd: "node", args: ["server.js"], httpPort: port }, "200ms"),
  );
  neighbourUrl = (await host.client.getSprite("res-neighbour")).url ?? "";
  await eventually("the neighbour to answer", async () => {
    const res = await fetch(`${neighbourUrl}/health`, { headers: { authorization: `Bearer ${host.token}` } });
    return res.ok;
  });
});

afterAll(async () => {
  await host?.close();
});

describe("resource isolation between sprites", () => {
  it("limits sprites with cgroups on this host", () => {
    // This host (root, cgroup v1 memory/pids/cpu) supports the full set; a weaker host is reported, not hidden.
    expect(host.local.resourceEnforcement).toMatchObject({
      memory: "cgroup",
      pids: "cgroup",
      cpu: "cgroup",
      host_cpu_priority: "parent_cgroup",
    });
  });

  it("weighs all sprites together low against the host's own processes, each sprite equal among them", async () => {
    const sprite = await host.client.createSprite("res-weight");
    const { code, out } = await run(sprite, "cat /proc/self/cgroup");
    expect(code, out).toBe(0);
    // No cgroup namespace: the sprite sees its host path ("1:cpu:/sprites-local-…/res-weight").
    const cpuPath = /^\d+:cpu(?:,[\w,]+)?:(\/.+)$/m.exec(out)?.[1];
    expect(cpuPath, out).toMatch(/\/res-weight$/);
    const shares = (dir: string) =>
      readFileSync(path.join("/sys/fs/cgroup/cpu", dir, "cpu.shares"), "utf8").trim();
    expect(shares(String(cpuPath)), "the sprite among sprites").toBe("1024");
    expect(shares(path.dirname(String(cpuPath))), "all sprites against the host").toBe(
      String(DEFAULT_SPRITES_CPU_SHARES),
    );
  });

  it("refuses a 1 GiB file read fast, with the size in the message, while the neighbour answers", async () => {
    const reader = await host.client.createSprite("res-reader");
    expect((await run(reader, "truncate -s 1G /home/sprite/big.bin && echo ok")).out).toBe("ok\n");

    const readRaw = async () => {
      const started = performance.now();
      const res = await api(
        `/v1/sprites/res-reader/fs/read?path=${encodeURIComponent("/home/sprite/big.bin")}`,
      );
      const body = (await res.json()) as { error: string; message: string; code: string };
      return { status: res.status, body, ms: performance.now() - started };
    };
    const { result: reads } = await neighbourDuring(() => Promise.all([readRaw(), readRaw(), readRaw()]));
    for (const read of reads) {
      expect(read.status, JSON.stringify(read.body)).toBe(413);
      expect(read.body.code).toBe("EFBIG");
      expect(read.body.message).toMatch(/file is 1\.0 GiB; the limit is 32\.0 MiB/);
      expect(read.body.error).toBe(read.body.message);
      // Refused from a stat, not after reading: far below what reading 1 GiB would take.
      expect(read.ms, "a refused read must not read the file").toBeLessThan(3_000);
    }

    // The SDK surfaces the message too.
    await expect(reader.filesystem("/home/sprite").readFile("big.bin")).rejects.toThrow(/1\.0 GiB/);

    // Below the cap a read is streamed whole and exact.
    expect((await run(reader, "head -c 20000000 /dev/urandom > /home/sprite/mid.bin && echo ok")).out).toBe(
      "ok\n",
    );
    const expected = (await run(reader, "sha256sum /home/sprite/mid.bin")).out.split(" ")[0];
    const content = Buffer.from(await reader.filesystem("/home/sprite").readFile("mid.bin"));
    expect(content.length).toBe(20_000_000);
    expect(createHash("sha256").update(content).digest("hex")).toBe(expected);
  });

  it("caps a fork bomb at the sprite's pids limit while the neighbour answers", async () => {
    const bomb = await host.client.createSprite("res-bomb");
    await setResources("res-bomb", { pids: 128 });
    let peak = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        peak = Math.max(peak, (await usage("res-bomb")).pids ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    // Forks until EAGAIN; the exec ends after 5 s and its pid namespace takes every fork with it.
    const { result } = await neighbourDuring(() =>
      run(bomb, "bomb() { bomb | bomb & }; bomb; sleep 5; echo survived"),
    );
    watching = false;
    await watcher;
    expect(result.out).toMatch(/fork: (retry: )?Resource temporarily unavailable/);
    expect(peak, "the bomb should have reached its limit").toBeGreaterThanOrEqual(100);
    expect(peak).toBeLessThanOrEqual(128);
    // Gone with the exec, and the sprite works again.
    await eventually(
      "the bomb's processes to be gone",
      async () => ((await usage("res-bomb")).pids ?? 0) < 5,
    );
    expect(await run(bomb, "echo fine")).toEqual({ code: 0, out: "fine\n" });
  });

  it("kills a memory hog at the sprite's memory limit while the neighbour answers", async () => {
    const hog = await host.client.createSprite("res-hog");
    await setResources("res-hog", { memory_mb: 128 });
    // Allocates and touches 16 MiB at a time, far past 128 MiB if nothing stops it (bounded at 2 GiB).
    const script =
      "node -e 'const a=[]; for (let i=0;i<128;i++) { a.push(Buffer.alloc(16<<20, 1)); } console.log(\"allocated 2 GiB\")'";
    const { result } = await neighbourDuring(() => run(hog, script));
    expect(result.out).not.toContain("allocated 2 GiB");
    expect(result.code, result.out).toBe(137);
    expect((await usage("res-hog")).memory_mb ?? 0).toBeLessThanOrEqual(128);
    expect(await run(hog, "echo fine")).toEqual({ code: 0, out: "fine\n" });
  });

  it("fails fallocate -l 20G without touching the host's disk", async () => {
    const filler = await host.client.createSprite("res-fill");
    const freeBefore = Number(
      execFileSync("df", ["-B1", "--output=avail", host.dataDir]).toString().split("\n")[1],
    );
    const result = await run(
      filler,
      "fallocate -l 20G /tmp/huge; echo rc=$?; du -B1 /tmp/huge 2>/dev/null || echo absent",
    );
    // RLIMIT_FSIZE (disk_mb): EFBIG, or SIGXFSZ (128 + 25) for a program that does not ignore it.
    expect(result.out).toMatch(/File too large|File size limit exceeded/);
    expect(result.out).not.toMatch(/rc=0/);
    expect(result.out).toMatch(/^0\s|absent/m);
    const freeAfter = Number(
      execFileSync("df", ["-B1", "--output=avail", host.dataDir]).toString().split("\n")[1],
    );
    // Other writers share this disk: allow them 1 GiB, far below the 20 GiB asked for.
    expect(freeBefore - freeAfter).toBeLessThan(1024 ** 3);
    await filler
      .filesystem("/")
      .rm("/tmp/huge")
      .catch(() => undefined);
  });

  it("stops a sprite at its disk quota: API writes refused, files cannot grow, until it deletes", async () => {
    const disk = await host.client.createSprite("res-disk");
    await setResources("res-disk", { disk_mb: 64 });
    // Each file is below the largest-file limit (64 MiB); together they pass the quota.
    const fill = await run(
      disk,
      "for i in 1 2 3; do head -c 30000000 /dev/zero > /home/sprite/fill-$i || exit 1; done; echo filled",
    );
    expect(fill.out).toBe("filled\n");
    await eventually("the quota scan to notice", async () => {
      const res = await api("/v1/sprites/res-disk/policy/resources");
      return ((await res.json()) as { usage: { over_disk_quota: boolean } }).usage.over_disk_quota;
    });

    const refused = await api(
      `/v1/sprites/res-disk/fs/write?path=${encodeURIComponent("/home/sprite/more.txt")}`,
      {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body: "more",
      },
    );
    const body = (await refused.json()) as { code: string; message: string };
    expect(refused.status, JSON.stringify(body)).toBe(507);
    expect(body.code).toBe("ENOSPC");
    expect(body.message).toMatch(/disk_mb=64/);

    // Processes already running and new ones alike can no longer grow a file.
    const grow = await run(disk, "head -c 1000 /dev/zero >> /home/sprite/fill-1; echo rc=$?");
    expect(grow.out).toMatch(/rc=[1-9]/);

    expect((await run(disk, "rm /home/sprite/fill-2 /home/sprite/fill-3 && echo removed")).out).toBe(
      "removed\n",
    );
    await eventually("the quota scan to lift the limit", async () => {
      const res = await api("/v1/sprites/res-disk/policy/resources");
      return !((await res.json()) as { usage: { over_disk_quota: boolean } }).usage.over_disk_quota;
    });
    await disk.filesystem("/home/sprite").writeFile("more.txt", "more");
    expect((await run(disk, "head -c 1000 /dev/zero >> /home/sprite/fill-1 && echo grew")).out).toBe(
      "grew\n",
    );
  });
});
