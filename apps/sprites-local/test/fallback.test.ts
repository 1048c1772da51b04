import { FilesystemError, type Sprite } from "@fly/sprites";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHost, type TestHost } from "./helpers.js";

let host: TestHost;
let sprite: Sprite;

beforeAll(async () => {
  host = await startHost({ sandbox: "none" });
  sprite = await host.client.createSprite("plain");
});

afterAll(async () => {
  await host.close();
});

describe("without a sandbox (hosts where bubblewrap cannot run)", () => {
  it("reports the mode so the startup warning has a reason", () => {
    expect(host.local.sandboxMode).toBe("none");
  });

  it("runs commands in the sprite's directory with HOME set", async () => {
    const result = await sprite.execFile("bash", ["-c", 'pwd; echo "$HOME"']);
    const [pwd, home] = String(result.stdout).trim().split("\n");
    expect(pwd).toBe(home);
    expect(home).toBe(`${host.dataDir}/plain/home`);
  });

  it("maps /home/sprite paths of the filesystem API to that directory and still refuses escapes", async () => {
    const fs = sprite.filesystem("/home/sprite");
    await fs.writeFile("note.txt", "hello");
    const seen = await sprite.execFile("bash", ["-c", 'cat "$HOME/note.txt"']);
    expect(seen.stdout).toBe("hello");
    await sprite.execFile("ln", ["-s", "/etc", "etc-link"]);
    const error = await fs.readFile("etc-link/hostname").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FilesystemError);
    expect((error as FilesystemError).code).toBe("EACCES");
  });
});
