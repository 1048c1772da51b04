import { ExecError, type Sprite } from "@fly/sprites";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHost, type TestHost } from "./helpers.js";

let host: TestHost;
let sprite: Sprite;

beforeAll(async () => {
  host = await startHost();
  sprite = await host.client.createSprite("exec-sprite", { environment: { SPRITE_WIDE: "from-create" } });
});

afterAll(async () => {
  await host.close();
});

function collect(stream: NodeJS.ReadableStream): () => string {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString("utf8");
}

describe("exec over WebSocket", () => {
  it("returns stdout, stderr and the exit code", async () => {
    const result = await sprite.execFile("bash", ["-c", "echo out; echo err >&2"]);
    expect(result).toEqual({ stdout: "out\n", stderr: "err\n", exitCode: 0 });

    const failed = await sprite.execFile("bash", ["-c", "echo partial; exit 42"]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ExecError);
    expect((failed as ExecError).exitCode).toBe(42);
    expect((failed as ExecError).stdout).toBe("partial\n");
  });

  it("runs in the sprite's home with its environment", async () => {
    const result = await sprite.execFile("bash", [
      "-c",
      'pwd; echo "$HOME"; echo "$SPRITE_WIDE"; echo "$PATH"',
    ]);
    const [pwd, home, spriteWide, pathVar] = String(result.stdout).trim().split("\n");
    expect(pwd).toBe(home);
    expect(spriteWide).toBe("from-create");
    expect(pathVar).toContain("/usr/bin");
  });

  it("replaces the whole environment when env is given", async () => {
    const result = await sprite.execFile("/usr/bin/env", [], { env: { ONLY: "this" } });
    // bwrap reports the working directory in PWD, as a shell would; nothing else may leak in.
    const names = String(result.stdout)
      .trim()
      .split("\n")
      .map((line) => line.split("=")[0])
      .filter((name) => name !== "PWD");
    expect(names).toEqual(["ONLY"]);
    expect(String(result.stdout)).toContain("ONLY=this\n");
  });

  it("honours dir", async () => {
    await sprite.execFile("mkdir", ["-p", "work/deeper"]);
    const home = String((await sprite.execFile("bash", ["-c", 'echo -n "$HOME"'])).stdout);
    const result = await sprite.execFile("pwd", [], { cwd: `${home}/work/deeper` });
    expect(String(result.stdout).trim()).toBe(`${home}/work/deeper`);
  });

  it("streams stdin and delivers stdin EOF", async () => {
    const command = sprite.spawn("bash", ["-c", "tr a-z A-Z; echo done"]);
    const stdout = collect(command.stdout);
    await new Promise<void>((resolve) => command.once("spawn", () => resolve()));
    command.stdin.write("hello ");
    command.stdin.write("world\n");
    command.stdin.end();
    expect(await command.wait()).toBe(0);
    expect(stdout()).toBe("HELLO WORLD\ndone\n");
  });

  it("delivers signals to the command", async () => {
    const command = sprite.spawn("bash", [
      "-c",
      "trap 'echo got-term; exit 7' TERM; echo ready; while true; do sleep 0.1; done",
    ]);
    const stdout = collect(command.stdout);
    await new Promise<void>((resolve) => {
      command.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) {
          resolve();
        }
      });
    });
    command.kill("SIGTERM");
    expect(await command.wait()).toBe(7);
    expect(stdout()).toContain("got-term");

    const plain = sprite.spawn("sleep", ["30"]);
    await new Promise<void>((resolve) => plain.once("spawn", () => resolve()));
    plain.kill("TERM");
    expect(await plain.wait()).toBe(143);
  });

  it("runs TTY commands with a pty and takes the exit code from the close code", async () => {
    const command = sprite.spawn("bash", ["-c", "tty; stty size"], { tty: true, rows: 30, cols: 100 });
    const stdout = collect(command.stdout);
    expect(await command.wait()).toBe(0);
    expect(stdout()).toMatch(/\/dev\/pts\/\d+/);
    expect(stdout()).toContain("30 100");

    const failing = sprite.spawn("bash", ["-c", "exit 5"], { tty: true });
    expect(await failing.wait()).not.toBe(0);
  });

  it("fails cleanly for a missing program", async () => {
    const error = await sprite.execFile("definitely-not-a-program-xyz").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecError);
    expect((error as ExecError).exitCode).not.toBe(0);
  });
});

describe("exec over HTTP", () => {
  it("returns framed output and the exit code", async () => {
    const result = await sprite.execFileHTTP("bash", ["-c", "echo out; echo err >&2"]);
    expect(result).toEqual({ stdout: "out\n", stderr: "err\n", exitCode: 0 });
    const failed = await sprite.execFileHTTP("bash", ["-c", "exit 3"]).catch((e: unknown) => e);
    expect((failed as ExecError).exitCode).toBe(3);
  });

  it("feeds the request body as stdin", async () => {
    const result = await sprite.execFileHTTP("wc", ["-c"], { input: "twelve bytes" });
    expect(String(result.stdout).trim()).toBe("12");
  });

  it("carries output larger than one frame", async () => {
    const result = await sprite.execFileHTTP("bash", ["-c", "head -c 100000 /dev/zero | tr '\\0' x"]);
    expect(String(result.stdout)).toBe("x".repeat(100_000));
  });
});
