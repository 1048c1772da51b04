import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { loadOrCreateSecrets } from "./secrets";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "secrets-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadOrCreateSecrets", () => {
  test("generates the three secrets in their formats, into an owner-only file", async () => {
    const secrets = await loadOrCreateSecrets(dir);
    expect(Buffer.from(secrets.BETTER_AUTH_SECRET, "base64url")).toHaveLength(32);
    expect(secrets.BETTER_AUTH_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secrets.ENCRYPTION_KEY, "base64")).toHaveLength(32);
    expect(secrets.ENCRYPTION_KEY).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(secrets.SPRITES_LOCAL_TOKEN).toMatch(/^[0-9a-f]{64}$/);

    const file = path.join(dir, "secrets.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual(secrets);
  });

  test("returns the same secrets on every later start", async () => {
    const first = await loadOrCreateSecrets(dir);
    expect(await loadOrCreateSecrets(dir)).toEqual(first);
  });

  test("keeps stored secrets, adds a missing one, and tightens a loose file mode", async () => {
    const file = path.join(dir, "secrets.json");
    await writeFile(file, JSON.stringify({ ENCRYPTION_KEY: "kept", OTHER: "untouched" }), { mode: 0o644 });
    const secrets = await loadOrCreateSecrets(dir);
    expect(secrets.ENCRYPTION_KEY).toBe("kept");
    expect(secrets.SPRITES_LOCAL_TOKEN).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({
      ENCRYPTION_KEY: "kept",
      OTHER: "untouched",
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  test("refuses to replace an unreadable file, which would lose the encryption key", async () => {
    const file = path.join(dir, "secrets.json");
    await writeFile(file, "{ not json");
    await expect(loadOrCreateSecrets(dir)).rejects.toThrow(/cannot be read/);
    expect(await readFile(file, "utf8")).toBe("{ not json");
  });
});
