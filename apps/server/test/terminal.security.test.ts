import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";
import { connectTerminal, runningBox } from "./terminal-client";

/**
 * Who may attach to a box's shell: only its owner, only from the dashboard's origin, and only
 * within the terminal's bounds. Every refusal happens before the upgrade, as an HTTP answer.
 */
let server: TestServer;
let owner: TestClient;
let intruder: TestClient;
let boxId: string;

/** Fields of /proc/<pid>/stat after the command name: state, ppid, … (null once the process is gone). */
async function procStat(pid: number): Promise<string[] | null> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  return stat ? stat.slice(stat.lastIndexOf(")") + 2).split(" ") : null;
}

async function isRunning(pid: number): Promise<boolean> {
  const fields = await procStat(pid);
  return fields !== null && fields[0] !== "Z";
}

async function parentPid(pid: number): Promise<number> {
  return Number((await procStat(pid))?.[1]);
}

/** Live processes on this machine whose command line contains `marker` (sandboxes included). */
async function hostPidsRunning(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (/^\d+$/.test(entry)) {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
      if (cmdline.includes(marker) && (await isRunning(Number(entry)))) {
        found.push(Number(entry));
      }
    }
  }
  return found;
}

beforeAll(async () => {
  server = await startTestServer({ sprites: true });
  ({ client: owner } = await signedInClient(server));
  ({ client: intruder } = await signedInClient(server));
  ({ boxId } = await runningBox(server, owner));
}, 120_000);
afterAll(async () => {
  await server?.close();
});

describe("attaching to a box's terminal", () => {
  it("is refused without a session cookie (401)", async () => {
    const terminal = connectTerminal(server.url, owner, boxId, { cookie: null });
    expect(await terminal.ended).toEqual({ status: 401 });
  });

  it("is refused for another user's box as if it did not exist (404)", async () => {
    const theirs = connectTerminal(server.url, intruder, boxId);
    expect(await theirs.ended).toEqual({ status: 404 });
    const nobody = connectTerminal(server.url, owner, "box_00000000000000000000000000");
    expect(await nobody.ended).toEqual({ status: 404 });
  });

  it("is refused from another origin, or with none (403), even with the owner's cookie", async () => {
    const crossSite = connectTerminal(server.url, owner, boxId, { origin: "https://evil.example" });
    expect(await crossSite.ended).toEqual({ status: 403 });
    const noOrigin = connectTerminal(server.url, owner, boxId, { origin: null });
    expect(await noOrigin.ended).toEqual({ status: 403 });
  });

  it("lets a second account reach only its own box's shell", async () => {
    const { boxId: theirBox } = await runningBox(server, intruder, "Theirs");
    const mine = connectTerminal(server.url, owner, boxId);
    const theirs = connectTerminal(server.url, intruder, theirBox);
    expect(await mine.opened).toBe(true);
    expect(await theirs.opened).toBe(true);
    mine.type("echo owner-$((1 + 1)) > ~/whoami-mark; cat ~/whoami-mark\r");
    await mine.waitForOutput(/owner-2/);
    theirs.type("cat ~/whoami-mark 2>&1 || echo no-$((2 + 2))\r");
    await theirs.waitForOutput(/no-4/);
    mine.close();
    theirs.close();
  });

  it("refuses bad window sizes with a clear 400", async () => {
    const terminal = connectTerminal(server.url, owner, boxId, { query: "?cols=0&rows=abc" });
    expect(await terminal.ended).toEqual({ status: 400 });
  });
});

describe("an open terminal", () => {
  it("closes with 1009 on a message over the size limit", async () => {
    const terminal = connectTerminal(server.url, owner, boxId);
    expect(await terminal.opened).toBe(true);
    terminal.type("x".repeat(200 * 1024));
    expect((await terminal.ended).code).toBe(1009);
  });

  it("closes with a reason on a malformed resize", async () => {
    const terminal = connectTerminal(server.url, owner, boxId);
    expect(await terminal.opened).toBe(true);
    terminal.socket.send(JSON.stringify({ type: "resize", cols: -1, rows: 10 }));
    const ended = await terminal.ended;
    expect(ended.code).toBe(1007);
    expect(ended.reason).toMatch(/cols and rows/);
  });

  it("takes no more than four per box, and says so", async () => {
    const open = Array.from({ length: 4 }, () => connectTerminal(server.url, owner, boxId));
    for (const terminal of open) {
      expect(await terminal.opened).toBe(true);
      // Opened means upgraded; printing means the shell holds its slot.
      await terminal.waitForOutput(/\S/);
    }
    const fifth = connectTerminal(server.url, owner, boxId);
    const ended = await fifth.ended;
    expect(ended.code).toBe(4429);
    expect(ended.reason).toMatch(/4 terminals open/);
    for (const terminal of open) {
      terminal.close();
      await terminal.ended;
    }
  });

  it("kills the shell and what it runs when the socket closes", async () => {
    const terminal = connectTerminal(server.url, owner, boxId);
    expect(await terminal.opened).toBe(true);
    // A named background job; each exec has its own pid namespace, so look from the host.
    const marker = `tty-job-${randomBytes(4).toString("hex")}`;
    terminal.type(`(exec -a ${marker} sleep 1000) & echo started-$((3 * 3))\r`);
    await terminal.waitForOutput(/started-9/);
    const [job] = await waitFor(
      () => hostPidsRunning(marker),
      (pids) => pids.length === 1,
      {
        timeout: 10_000,
        what: `the job '${marker}' on this host`,
      },
    );
    const shell = await parentPid(Number(job));

    terminal.close();
    await terminal.ended;
    await waitFor(
      async () => [...(await hostPidsRunning(marker)), ...((await isRunning(shell)) ? [shell] : [])],
      (left) => left.length === 0,
      { timeout: 30_000, what: "the shell and its job to be gone" },
    );
  }, 60_000);
});
