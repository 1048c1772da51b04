import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { recordWebBuild, webBuildIsStale, webSourcesHash } from "./web-build";

let root: string;

async function put(relative: string, content: string): Promise<void> {
  await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
  await writeFile(path.join(root, relative), content);
}

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "web-build-test-"));
  await put("package-lock.json", "{}");
  await put(
    "apps/web/package.json",
    JSON.stringify({ name: "web", dependencies: { "@x/ui": "*", next: "16" } }),
  );
  await put("apps/web/src/app/page.tsx", "export default 1;");
  await put("packages/ui/package.json", JSON.stringify({ name: "@x/ui", dependencies: { "@x/base": "*" } }));
  await put("packages/ui/src/index.ts", "export const ui = 1;");
  await put("packages/base/package.json", JSON.stringify({ name: "@x/base" }));
  await put("packages/base/src/index.ts", "export const base = 1;");
  await put("packages/unrelated/package.json", JSON.stringify({ name: "@x/unrelated" }));
  await put("packages/unrelated/src/index.ts", "export const other = 1;");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("webSourcesHash", () => {
  test("changes with the dashboard's sources, the packages it imports (also indirectly), the lockfile and NEXT_PUBLIC_ settings", async () => {
    const base = await webSourcesHash(root, {});
    for (const [file, content] of [
      ["apps/web/src/app/page.tsx", "export default 2;"],
      ["packages/base/src/index.ts", "export const base = 2;"],
      ["package-lock.json", '{"v":2}'],
    ] as const) {
      await put(file, content);
      const changed = await webSourcesHash(root, {});
      expect(changed, file).not.toBe(base);
    }
    const withSetting = await webSourcesHash(root, { NEXT_PUBLIC_X: "1" });
    expect(withSetting).not.toBe(await webSourcesHash(root, {}));
  });

  test("ignores build output, tests and packages the dashboard does not import", async () => {
    const base = await webSourcesHash(root, {});
    await put("apps/web/.next/BUILD_ID", "abc");
    await put("apps/web/src/app/page.test.tsx", "test");
    await put("apps/web/test/e2e.ts", "test");
    await put("apps/web/next-env.d.ts", "// generated");
    await put("packages/unrelated/src/index.ts", "export const other = 2;");
    expect(await webSourcesHash(root, {})).toBe(base);
  });
});

describe("webBuildIsStale", () => {
  test("is stale without a build, fresh after a recorded build of the same sources, stale again after a change", async () => {
    const dataDir = path.join(root, ".data");
    await mkdir(dataDir);
    const hash = await webSourcesHash(root, {});
    await recordWebBuild(dataDir, hash);
    expect(await webBuildIsStale(root, dataDir, hash)).toBe(true);

    await put("apps/web/.next/BUILD_ID", "abc");
    expect(await webBuildIsStale(root, dataDir, hash)).toBe(false);

    await put("apps/web/src/app/page.tsx", "export default 3;");
    expect(await webBuildIsStale(root, dataDir, await webSourcesHash(root, {}))).toBe(true);
  });
});
