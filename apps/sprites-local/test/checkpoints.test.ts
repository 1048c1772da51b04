import type { ServiceLogEvent, StreamMessage } from "@fly/sprites";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHost, type TestHost } from "./helpers.js";

let host: TestHost;

beforeAll(async () => {
  host = await startHost();
});

afterAll(async () => {
  await host.close();
});

async function messages(stream: AsyncIterable<StreamMessage>): Promise<StreamMessage[]> {
  const all: StreamMessage[] = [];
  for await (const message of stream) {
    all.push(message);
  }
  return all;
}

describe("checkpoints", () => {
  it("creates, lists and restores checkpoints with NDJSON progress", async () => {
    const sprite = await host.client.createSprite("cp-sprite");
    const fs = sprite.filesystem("/home/sprite");
    await fs.writeFile("state.txt", "version 1");
    await sprite.execFile("ln", ["-s", "state.txt", "state-link"]);

    const created = await messages(await sprite.createCheckpoint("first"));
    expect(created.map((m) => m.type)).toContain("info");
    const complete = created.at(-1) as unknown as { type: string; data: string; time: string };
    expect(complete.type).toBe("complete");
    expect(complete.data).toContain("v1");
    expect(Number.isNaN(Date.parse(complete.time))).toBe(false);

    await fs.writeFile("state.txt", "version 2");
    await fs.writeFile("later.txt", "created after the checkpoint");
    await messages(await sprite.createCheckpoint("second"));

    const list = await sprite.listCheckpoints();
    expect(list.map((c) => [c.id, c.comment])).toEqual([
      ["v1", "first"],
      ["v2", "second"],
    ]);
    expect(list[0]?.createTime).toBeInstanceOf(Date);
    expect((await sprite.getCheckpoint("v1")).comment).toBe("first");

    const restored = await messages(await sprite.restoreCheckpoint("v1"));
    expect(restored.at(-1)?.type).toBe("complete");
    expect(await fs.readFile("state.txt", "utf8")).toBe("version 1");
    expect(await fs.exists("later.txt")).toBe(false);
    expect((await fs.stat("state-link")).isSymbolicLink()).toBe(true);
    // Files restored are still the sprite's own: it can change them.
    const write = await sprite.execFile("bash", ["-c", "echo v3 > state.txt && cat state.txt"]);
    expect(write.stdout).toBe("v3\n");

    await messages(await sprite.restoreCheckpoint("v2"));
    expect(await fs.readFile("later.txt", "utf8")).toBe("created after the checkpoint");
  });

  it("restarts wanted services after a restore", async () => {
    const sprite = await host.client.createSprite("cp-services");
    const drain = async (stream: AsyncIterable<ServiceLogEvent>) => {
      for await (const _event of stream) {
        // Until the stream ends.
      }
    };
    await drain(await sprite.createService("sleeper", { cmd: "sleep", args: ["1000"] }, "0s"));
    const before = (await sprite.getService("sleeper")).state?.pid;
    await messages(await sprite.createCheckpoint("with service"));
    await messages(await sprite.restoreCheckpoint("v1"));
    const after = await sprite.getService("sleeper");
    expect(after.state?.status).toBe("running");
    expect(after.state?.pid).not.toBe(before);
  });

  it("reports an unknown checkpoint as not found", async () => {
    const sprite = await host.client.createSprite("cp-missing");
    await expect(sprite.getCheckpoint("v9")).rejects.toThrow(/not found/i);
    await expect(sprite.restoreCheckpoint("v9")).rejects.toThrow(/404/);
  });
});
