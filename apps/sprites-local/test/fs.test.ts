import { FilesystemError, type Sprite, type SpriteFilesystem } from "@fly/sprites";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHost, type TestHost } from "./helpers.js";

let host: TestHost;
let sprite: Sprite;
let fs: SpriteFilesystem;

beforeAll(async () => {
  host = await startHost();
  sprite = await host.client.createSprite("fs-sprite");
  fs = sprite.filesystem("/home/sprite");
});

afterAll(async () => {
  await host.close();
});

async function fsError(promise: Promise<unknown>): Promise<FilesystemError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FilesystemError);
  return error as FilesystemError;
}

describe("filesystem API through the SDK", () => {
  it("writes with parents and mode, reads back, and the sprite sees the same file", async () => {
    await fs.writeFile("app/config/settings.json", '{"a":1}', { mode: 0o600 });
    expect(await fs.readFile("app/config/settings.json", "utf8")).toBe('{"a":1}');
    const stat = await fs.stat("app/config/settings.json");
    expect(stat.isFile()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.size).toBe(7);
    const seen = await sprite.execFile("cat", ["app/config/settings.json"]);
    expect(seen.stdout).toBe('{"a":1}');
  });

  it("round-trips binary content", async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await fs.writeFile("/home/sprite/bin.dat", bytes);
    expect(Buffer.compare(Buffer.from(await fs.readFile("/home/sprite/bin.dat")), bytes)).toBe(0);
  });

  it("answers the raw write response", async () => {
    const res = await fetch(
      `${host.local.url}/v1/sprites/fs-sprite/fs/write?path=raw.txt&workingDir=/home/sprite&mkdir=true&mode=0640`,
      { method: "PUT", headers: { authorization: `Bearer ${host.token}` }, body: "abc" },
    );
    expect(await res.json()).toEqual({ path: "/home/sprite/raw.txt", size: 3, mode: "0640" });
  });

  it("lists directories, recursively too", async () => {
    await fs.writeFile("tree/a.txt", "a");
    await fs.writeFile("tree/sub/b.txt", "b");
    expect(await fs.readdir("tree")).toEqual(["a.txt", "sub"]);
    const flat = await fs.readdir("tree", { withFileTypes: true });
    expect(flat.find((d) => d.name === "sub")?.isDirectory()).toBe(true);
    const deep = await fs.readdir("tree", { recursive: true });
    expect(deep).toEqual(["a.txt", "sub", "sub/b.txt"]);
  });

  it("renames, copies, chmods and deletes", async () => {
    await fs.writeFile("ops/one.txt", "1");
    await fs.rename("ops/one.txt", "ops/two.txt");
    expect(await fs.exists("ops/one.txt")).toBe(false);
    await fs.copyFile("ops/two.txt", "ops/three.txt");
    expect(await fs.readFile("ops/three.txt", "utf8")).toBe("1");
    await fs.copyFile("ops", "ops-copy", { recursive: true });
    expect(await fs.readFile("ops-copy/two.txt", "utf8")).toBe("1");
    await fs.chmod("ops/two.txt", 0o755);
    expect((await fs.stat("ops/two.txt")).mode & 0o777).toBe(0o755);
    await fs.rm("ops/three.txt");
    expect(await fs.exists("ops/three.txt")).toBe(false);
    const notEmpty = await fsError(fs.rm("ops"));
    expect(notEmpty.code).toBe("ENOTEMPTY");
    await fs.rm("ops", { recursive: true });
    expect(await fs.exists("ops")).toBe(false);
  });

  it("creates directories with mkdir", async () => {
    await fs.mkdir("made/deep/dir", { recursive: true });
    expect((await fs.stat("made/deep")).isDirectory()).toBe(true);
  });

  it("reports missing files as ENOENT", async () => {
    const missing = await fsError(fs.readFile("nope.txt"));
    expect(missing.code).toBe("ENOENT");
    const noParent = await fsError(
      fetch(`${host.local.url}/v1/sprites/fs-sprite/fs/write?path=/home/sprite/no/such/dir.txt`, {
        method: "PUT",
        headers: { authorization: `Bearer ${host.token}` },
        body: "x",
      }).then(async (res) => {
        const body = (await res.json()) as { error: string; code: "ENOENT"; path: string };
        expect(res.status).toBe(404);
        throw new FilesystemError(body.error, body.code, body.path, "write");
      }),
    );
    expect(noParent.code).toBe("ENOENT");
  });
});

describe("filesystem API confinement", () => {
  it("refuses .. escapes and absolute paths outside the sprite", async () => {
    for (const path of [
      "../../etc/passwd",
      "/home/sprite/../../etc/passwd",
      "/etc/passwd",
      "/root/.bashrc",
    ]) {
      const error = await fsError(fs.readFile(path));
      expect(error.code, path).toBe("EACCES");
    }
    const write = await fsError(fs.writeFile("../../../etc/escaped.txt", "x"));
    expect(write.code).toBe("EACCES");
  });

  it("serves the sprite's own /tmp, never the host's", async () => {
    // The test data directory lives under the host's /tmp; to the sprite, /tmp is its own directory.
    const viaTmp = await fsError(sprite.filesystem("/").readFile(`${host.dataDir}/fs-sprite/sprite.json`));
    expect(viaTmp.code).toBe("ENOENT");
    await sprite.filesystem("/tmp").writeFile("scratch.txt", "mine");
    const seen = await sprite.execFile("cat", ["/tmp/scratch.txt"]);
    expect(seen.stdout).toBe("mine");
  });

  it("refuses symlinks that lead out of the sprite, follows those that stay inside", async () => {
    await sprite.execFile("ln", ["-s", "/etc", "etc-link"]);
    await sprite.execFile("ln", ["-s", host.dataDir, "data-link"]);
    await sprite.execFile("ln", ["-s", "/home/sprite/inside.txt", "inside-link"]);
    await fs.writeFile("inside.txt", "ok");

    expect((await fsError(fs.readFile("etc-link/passwd"))).code).toBe("EACCES");
    expect((await fsError(fs.writeFile("etc-link/evil", "x"))).code).toBe("EACCES");
    await sprite.execFile("ln", ["-s", "/usr/lib", "lib-link"]);
    expect((await fsError(fs.readdir("lib-link"))).code).toBe("EACCES");
    await sprite.execFile("ln", ["-s", "../../../root", "relative-link"]);
    expect((await fsError(fs.readFile("relative-link/.bashrc"))).code).toBe("EACCES");
    // A link to the host's data directory resolves inside the sprite's own /tmp: nothing of the host.
    const data = await fsError(fs.readFile("data-link/fs-sprite/sprite.json"));
    expect(["ENOENT", "EACCES"]).toContain(data.code);
    expect(await fs.readFile("inside-link", "utf8")).toBe("ok");
    // The link itself may be removed: that does not touch its target.
    await fs.rm("etc-link");
    expect(await fs.exists("etc-link")).toBe(false);
  });

  it("refuses NUL bytes", async () => {
    const res = await fetch(
      `${host.local.url}/v1/sprites/fs-sprite/fs/read?path=${encodeURIComponent("/home/sprite/a\0b")}`,
      { headers: { authorization: `Bearer ${host.token}` } },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("EINVAL");
  });
});
