#!/usr/bin/env node
// The import graph of the repo's own TypeScript (type-only imports included: `tsc` follows them too),
// checked for cycles and for arrows pointing up. Part of `npm run check`; exits 1 on any finding.
//
// TypeScript 7's package has no JS API for the usual tools (dpdm, madge) to parse with, and the
// repo's import statements are biome-formatted, so reading their specifiers is enough here.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE = /\.(?:ts|tsx|mts)$/;
const SKIP_DIRS = new Set(["node_modules", ".next", "dist", ".data", ".turbo", ".test-results"]);

/**
 * Layers, lowest first: a file may import its own layer or lower ones only. Test code, bench/ and
 * packages/testing (the harness that starts the apps) sit above everything and are checked for cycles only.
 */
const LAYERS = [
  ["packages/contract", "packages/shared", "packages/logger", "packages/redis"],
  [
    "packages/db",
    "packages/queue",
    "packages/sprites",
    "packages/email",
    "packages/ai",
    "packages/storage",
    "packages/auth",
    "packages/embedded",
  ],
  ["packages/api"],
  ["apps"],
];

/**
 * Arrows inside a package that the layers cannot see: deps.ts is what every service receives, so what
 * it names from services/ must be a port (a leaf importing nothing else of packages/api), never logic.
 */
const LEAF_ONLY = [
  {
    from: /^packages\/api\/src\/deps\.ts$/,
    to: /^packages\/api\/src\/(?:services|routers|workers)\//,
    inside: "packages/api/src/",
  },
];

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name) || entry.name.startsWith(".")) {
      continue;
    }
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      walk(path, out);
    } else if (SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) {
      out.push(path);
    }
  }
  return out;
}

const roots = ["apps", "packages"].flatMap((top) =>
  readdirSync(join(ROOT, top)).map((name) => join(ROOT, top, name)),
);
roots.push(join(ROOT, "bench"));

/** `@vps-claude/x` (and its subpath exports) → the file it points at. */
const workspaceExports = new Map();
for (const root of roots) {
  const manifest = join(root, "package.json");
  if (!existsSync(manifest)) {
    continue;
  }
  const { name, exports } = JSON.parse(readFileSync(manifest, "utf8"));
  const map = typeof exports === "string" ? { ".": exports } : (exports ?? {});
  for (const [subpath, target] of Object.entries(map)) {
    const file = typeof target === "string" ? target : (target.import ?? target.default);
    if (typeof file === "string") {
      workspaceExports.set(subpath === "." ? name : `${name}/${subpath.slice(2)}`, join(root, file));
    }
  }
}

function asFile(base) {
  const candidates = [
    base,
    base.replace(/\.m?js$/, ".ts"),
    base.replace(/\.jsx?$/, ".tsx"),
    `${base}.ts`,
    `${base}.tsx`,
    `${base}.mts`,
    join(base, "index.ts"),
    join(base, "index.tsx"),
  ];
  return candidates.find((path) => SOURCE.test(path) && existsSync(path) && statSync(path).isFile());
}

function resolveSpecifier(from, specifier) {
  if (specifier.startsWith(".")) {
    return asFile(resolve(dirname(from), specifier));
  }
  const target = workspaceExports.get(specifier);
  return target ? asFile(target) : undefined;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"'\n]+)["']/g;

function importsOf(file) {
  const text = readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const targets = new Set();
  for (const match of text.matchAll(IMPORT)) {
    const target = resolveSpecifier(file, match[1]);
    if (target && target !== file) {
      targets.add(target);
    }
  }
  return [...targets];
}

const files = roots.filter((root) => existsSync(root)).flatMap((root) => walk(root, []));
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const rel = (file) => relative(ROOT, file);

// Tarjan's strongly connected components: every component of more than one file is a cycle.
function cycles() {
  let index = 0;
  const state = new Map();
  const stack = [];
  const found = [];
  const visit = (node) => {
    state.set(node, { index, low: index, onStack: true });
    index++;
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!state.has(next)) {
        visit(next);
        state.get(node).low = Math.min(state.get(node).low, state.get(next).low);
      } else if (state.get(next).onStack) {
        state.get(node).low = Math.min(state.get(node).low, state.get(next).index);
      }
    }
    if (state.get(node).low === state.get(node).index) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        state.get(member).onStack = false;
        component.push(member);
      } while (member !== node);
      if (component.length > 1) {
        found.push(component);
      }
    }
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      visit(node);
    }
  }
  return found;
}

/** One concrete loop through a component, for a message a reader can follow. */
function loopThrough(component) {
  const members = new Set(component);
  const start = component[0];
  const path = [start];
  const seen = new Set([start]);
  let node = start;
  for (;;) {
    const next = (graph.get(node) ?? []).find((candidate) => members.has(candidate));
    const at = path.indexOf(next);
    if (at >= 0 || seen.has(next)) {
      return [...path.slice(Math.max(at, 0)), next].map(rel).join(" → ");
    }
    path.push(next);
    seen.add(next);
    node = next;
  }
}

const isTestCode = (path) =>
  /(?:^|\/)(?:test|tests)\//.test(path) ||
  /\.(?:test|bench)\.tsx?$/.test(path) ||
  path.startsWith("packages/testing/") ||
  path.startsWith("bench/");

function layerOf(path) {
  return LAYERS.findIndex((layer) =>
    layer.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)),
  );
}

const problems = [];
for (const component of cycles()) {
  problems.push(`import cycle: ${loopThrough(component)}`);
}
for (const [file, targets] of graph) {
  const from = rel(file);
  for (const target of targets) {
    const to = rel(target);
    if (!isTestCode(from) && isTestCode(to)) {
      problems.push(`${from} imports test code ${to}: production code must not depend on tests or fakes`);
      continue;
    }
    const [fromLayer, toLayer] = [layerOf(from), layerOf(to)];
    if (!isTestCode(from) && fromLayer >= 0 && toLayer > fromLayer) {
      problems.push(`${from} imports ${to}, which sits above it (apps → api → infrastructure → shared)`);
    }
    for (const rule of LEAF_ONLY) {
      if (!rule.from.test(from) || !rule.to.test(to)) {
        continue;
      }
      const inner = (graph.get(target) ?? []).map(rel).filter((path) => path.startsWith(rule.inside));
      if (inner.length > 0) {
        problems.push(
          `${from} imports ${to}, which imports ${inner.join(", ")}: name only leaf ports here (move the type beside deps)`,
        );
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} problem(s) in ${graph.size} files\n`);
  for (const problem of problems) {
    console.error(`  ${problem}`);
  }
  process.exit(1);
}
console.log(`check-imports: ${graph.size} files, no import cycle, every arrow points down`);
