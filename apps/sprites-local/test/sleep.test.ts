import fs from "node:fs";
import type { ServiceLogEvent } from "@fly/sprites";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, httpServerScript, startHost, type TestHost } from "./helpers.js";

let host: TestHost;

beforeAll(async () => {
  host = await startHost({ idleMs: 400, coldAfterMs: 400 });
});

afterAll(async () => {
  await host.close();
});

async function drain(stream: AsyncIterable<ServiceLogEvent>): Promise<void> {
  for await (const _event of stream) {
    // Wait for the stream to end.
  }
}

function statusOf(name: string): () => Promise<string> {
  return async () => (await host.client.getSprite(name)).status ?? "";
}

async function waitForStatus(name: string, status: string): Promise<void> {
  await eventually(`sprite ${name} to be ${status}`, async () => (await statusOf(name)()) === status);
}

/** Process state letters of a process and its descendants, read on the host ("T" = stopped). */
function treeStates(pid: number): string[] {
  const states: string[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift() ?? 0;
    try {
      const stat = fs.readFileSync(`/proc/${current}/stat`, "utf8");
      states.push(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? "?");
      const children = fs.readFileSync(`/proc/${current}/task/${current}/children`, "utf8").trim();
      for (const child of children.split(" ").filter(Boolean)) {
        queue.push(Number(child));
      }
    } catch {
      // Gone.
    }
  }
  return states;
}

describe("sleep and wake", () => {
  it("goes warm, then cold, after idling; GET does not wake it; any work does", async () => {
    const sprite = await host.client.createSprite("sleepy");
    expect(sprite.status).toBe("cold");
    await sprite.execFile("true");
    expect(["running", "warm"]).toContain(await statusOf("sleepy")());
    await waitForStatus("sleepy", "warm");
    await waitForStatus("sleepy", "cold");

    await sprite.filesystem("/home/sprite").writeFile("woke.txt", "yes");
    expect(await statusOf("sleepy")()).toBe("running");
    await waitForStatus("sleepy", "cold");
    const result = await sprite.execFile("cat", ["woke.txt"]);
    expect(result.stdout).toBe("yes");
  });

  it("freezes service processes when warm and thaws them on wake", async () => {
    // Its own host that stays warm, so the frozen state can be looked at without racing the cold timer.
    const warmHost = await startHost({ idleMs: 300, coldAfterMs: 600_000 });
    try {
      const sprite = await warmHost.client.createSprite("frozen");
      await drain(await sprite.createService("sleeper", { cmd: "sleep", args: ["1000"] }, "0s"));
      const pid = (await sprite.getService("sleeper")).state?.pid ?? 0;
      expect(pid).toBeGreaterThan(0);
      await eventually("warm", async () => (await warmHost.client.getSprite("frozen")).status === "warm");
      // Signal delivery is asynchronous: the kernel marks each process stopped when it gets to it.
      const frozen = await eventually("every process to be stopped", async () => {
        const states = treeStates(pid);
        return states.length > 1 && states.every((state) => state === "T") ? states : null;
      });
      expect(frozen.length).toBeGreaterThan(1);

      const woken = await sprite.getService("sleeper");
      expect(woken.state?.pid).toBe(pid);
      await eventually("the processes to run again", async () => !treeStates(pid).includes("T"));
    } finally {
      await warmHost.close();
    }
  });

  it("stops service processes when cold and starts them again on wake", async () => {
    const sprite = await host.client.createSprite("chilled");
    await drain(await sprite.createService("sleeper", { cmd: "sleep", args: ["1000"] }, "0s"));
    const pid = (await sprite.getService("sleeper")).state?.pid ?? 0;
    expect(pid).toBeGreaterThan(0);
    await waitForStatus("chilled", "cold");
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);

    const after = await sprite.getService("sleeper");
    expect(after.state?.status).toBe("running");
    expect(after.state?.pid).not.toBe(pid);
  });

  it("restarts services on wake from cold when the URL is requested", async () => {
    const sprite = await host.client.createSprite("url-wake", { urlSettings: { auth: "public" } });
    const port = await freePort();
    await sprite.filesystem("/home/sprite").writeFile("server.js", httpServerScript(port));
    await drain(
      await sprite.createService("web", { cmd: "node", args: ["server.js"], httpPort: port }, "0s"),
    );
    const url = `${host.local.proxyUrl}/proxy/url-wake`;
    const first = await eventually("the first start to answer", async () => {
      const res = await fetch(`${url}/`);
      return res.ok ? ((await res.json()) as { starts: number }) : null;
    });
    expect(first.starts).toBe(1);

    await waitForStatus("url-wake", "cold");
    const res = await fetch(`${url}/again`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { starts: number }).starts).toBe(2);
  });

  it("serves URL requests to a warm sprite from the same, thawed process", async () => {
    const warmHost = await startHost({ idleMs: 300, coldAfterMs: 600_000 });
    try {
      const sprite = await warmHost.client.createSprite("thaw", { urlSettings: { auth: "public" } });
      const port = await freePort();
      await sprite.filesystem("/home/sprite").writeFile("server.js", httpServerScript(port));
      await drain(
        await sprite.createService("web", { cmd: "node", args: ["server.js"], httpPort: port }, "0s"),
      );
      const url = `${warmHost.local.proxyUrl}/proxy/thaw`;
      await eventually("the service", async () => (await fetch(`${url}/`)).ok);
      await eventually("warm", async () => (await warmHost.client.getSprite("thaw")).status === "warm");
      const res = await fetch(`${url}/`);
      expect(((await res.json()) as { starts: number }).starts).toBe(1);
    } finally {
      await warmHost.close();
    }
  });
});
