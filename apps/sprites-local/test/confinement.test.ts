import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Sprite } from "@fly/sprites";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript as run, startHost, type TestHost } from "./helpers.js";

let host: TestHost;
let outsideDir: string;
let secretFile: string;
let sharedDir: string;
let spriteA: Sprite;
let spriteB: Sprite;

beforeAll(async () => {
  outsideDir = await fs.mkdtemp(path.join(os.tmpdir(), "sprites-local-outside-"));
  secretFile = path.join(outsideDir, "platform-secret.txt");
  await fs.writeFile(secretFile, `secret-${randomBytes(8).toString("hex")}`, { mode: 0o644 });
  sharedDir = path.join(outsideDir, "shared-readonly");
  await fs.mkdir(sharedDir);
  await fs.writeFile(path.join(sharedDir, "tool.txt"), "shared tool");
  host = await startHost({ readOnlyBinds: [sharedDir] });
  spriteA = await host.client.createSprite("conf-a");
  spriteB = await host.client.createSprite("conf-b");
});

afterAll(async () => {
  await host.close();
  await fs.rm(outsideDir, { recursive: true, force: true });
});

describe("sandbox confinement", () => {
  it("runs sprites in bubblewrap (install bubblewrap if this fails)", () => {
    expect(host.local.sandboxMode, "apt-get install -y bubblewrap").not.toBe("none");
  });

  it("cannot read a host file outside its sandbox", async () => {
    const result = await run(spriteA, `cat ${secretFile}`);
    expect(result.code).not.toBe(0);
    expect(result.out).not.toContain("secret-");
    const data = await run(spriteA, `ls ${host.dataDir}`);
    expect(data.code).not.toBe(0);
    if (!process.execPath.startsWith("/root/")) {
      // (A Node installed under /root is bound in, and with it the directories on its path.)
      const root = await run(spriteA, "ls /root");
      expect(root.code).not.toBe(0);
    }
    const shadow = await run(spriteA, "cat /etc/shadow");
    expect(shadow.code).not.toBe(0);
  });

  it("cannot write outside its sandbox", async () => {
    for (const target of ["/usr/evil", "/etc/evil", "/evil", `${outsideDir}/evil`, "/home/evil"]) {
      const result = await run(spriteA, `echo x > ${target}`);
      expect(result.code, target).not.toBe(0);
    }
    await expect(fs.access(path.join(outsideDir, "evil"))).rejects.toThrow();
    const ok = await run(spriteA, "echo x > ~/fine && echo y > /tmp/fine && cat ~/fine /tmp/fine");
    expect(ok).toEqual({ code: 0, out: "x\ny\n" });
  });

  it("cannot see another sprite's files", async () => {
    await spriteB.filesystem("/home/sprite").writeFile("b-private.txt", "only b");
    const direct = await run(spriteA, "cat /home/sprite/b-private.txt");
    expect(direct.code).not.toBe(0);
    const viaHost = await run(spriteA, `cat ${host.dataDir}/conf-b/home/b-private.txt`);
    expect(viaHost.code).not.toBe(0);
    expect(viaHost.out).not.toContain("only b");
    const tmp = await run(spriteB, "echo b-tmp > /tmp/b.txt");
    expect(tmp.code).toBe(0);
    const tmpFromA = await run(spriteA, "cat /tmp/b.txt");
    expect(tmpFromA.code).not.toBe(0);
  });

  it("cannot see or signal host processes", async () => {
    const result = await run(spriteA, "ps -e -o pid=,comm= | wc -l; kill -0 1 2>&1; echo rc=$?");
    const [count] = result.out.trim().split("\n");
    // Its own pid namespace: bwrap, bash, ps, wc — not the host's hundreds of processes.
    expect(Number(count)).toBeLessThan(10);
    expect(result.out).toMatch(/rc=1/);
  });

  it("runs as an unprivileged user when the host runs as root", async () => {
    const result = await run(spriteA, "id -u; id -un; grep CapEff /proc/self/status");
    const [uid, name, caps] = result.out.trim().split("\n");
    expect(name).toBe("sprite");
    if (host.local.sandboxMode === "bwrap-uid") {
      expect(Number(uid)).toBeGreaterThanOrEqual(200_000);
      expect(caps).toMatch(/0000000000000000$/);
      const other = await run(spriteB, "id -u");
      expect(other.out.trim()).not.toBe(uid);
    }
  });

  it("reads configured read-only host paths but cannot change them", async () => {
    const read = await run(spriteA, `cat ${sharedDir}/tool.txt`);
    expect(read).toEqual({ code: 0, out: "shared tool" });
    const write = await run(spriteA, `echo x > ${sharedDir}/tool.txt`);
    expect(write.code).not.toBe(0);
    expect(await fs.readFile(path.join(sharedDir, "tool.txt"), "utf8")).toBe("shared tool");
    // The bind exposes that directory only, not its parent.
    const sibling = await run(spriteA, `cat ${secretFile}`);
    expect(sibling.code).not.toBe(0);
  });

  it("can run the host's node", async () => {
    const result = await run(spriteA, "node -e 'console.log(process.versions.node)'");
    expect(result).toEqual({ code: 0, out: `${process.versions.node}\n` });
  });
});
