import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const SKIPPED_DIRECTORIES = new Set(["node_modules", ".next", ".turbo", "dist", "test", "coverage"]);
const SKIPPED_FILE = /(^next-env\.d\.ts$|\.tsbuildinfo$|\.test\.[cm]?[jt]sx?$)/;
const HASH_FILE = "web-build.hash";

/**
 * A fingerprint of everything a `next build` of apps/web depends on: its sources, the workspace
 * packages it imports, the lockfile, and the settings read at build time.
 */
export async function webSourcesHash(repoRoot: string, buildEnv: Record<string, string>): Promise<string> {
  const hash = createHash("sha256");
  const roots = await workspaceClosure(repoRoot, path.join(repoRoot, "apps", "web"));
  const files = [path.join(repoRoot, "package-lock.json")];
  for (const root of roots) {
    files.push(...(await listFiles(root)));
  }
  for (const file of files.sort()) {
    hash.update(path.relative(repoRoot, file));
    hash.update("\0");
    hash.update(await readFile(file).catch(() => Buffer.alloc(0)));
    hash.update("\0");
  }
  hash.update(JSON.stringify(Object.entries(buildEnv).sort()));
  return hash.digest("hex");
}

/** True when apps/web has no production build or one made from other sources. */
export async function webBuildIsStale(
  repoRoot: string,
  dataDir: string,
  currentHash: string,
): Promise<boolean> {
  if (!existsSync(path.join(repoRoot, "apps", "web", ".next", "BUILD_ID"))) {
    return true;
  }
  const recorded = await readFile(path.join(dataDir, HASH_FILE), "utf8").catch(() => "");
  return recorded.trim() !== currentHash;
}

export async function recordWebBuild(dataDir: string, currentHash: string): Promise<void> {
  await writeFile(path.join(dataDir, HASH_FILE), `${currentHash}\n`);
}

/** apps/web plus every workspace package it depends on, directly or through another. */
async function workspaceClosure(repoRoot: string, start: string): Promise<string[]> {
  const byName = new Map<string, string>();
  for (const group of ["apps", "packages"]) {
    for (const entry of await readdir(path.join(repoRoot, group)).catch(() => [])) {
      const dir = path.join(repoRoot, group, entry);
      const manifest = await readManifest(dir);
      if (manifest?.name) {
        byName.set(manifest.name, dir);
      }
    }
  }
  const seen = new Set<string>([start]);
  const queue = [start];
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    const manifest = await readManifest(dir);
    for (const dependency of Object.keys({ ...manifest?.dependencies, ...manifest?.devDependencies })) {
      const found = byName.get(dependency);
      if (found && !seen.has(found)) {
        seen.add(found);
        queue.push(found);
      }
    }
  }
  return [...seen];
}

interface Manifest {
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(entry.name)) {
        files.push(...(await listFiles(full)));
      }
    } else if (entry.isFile() && !SKIPPED_FILE.test(entry.name)) {
      files.push(full);
    }
  }
  return files;
}
