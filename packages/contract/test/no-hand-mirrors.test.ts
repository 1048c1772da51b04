import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { boxAgentContract, boxContract, userContract } from "../src/index";

/**
 * A wire's types live in packages/contract and every other side infers them from it. This check
 * fails when a client, a router or a test fake declares a route's JSON by hand again: a zod object,
 * or an interface / object type whose fields are (mostly) those of one of the contract's objects.
 */

const ROOT = join(import.meta.dirname, "../../..");
const SCANNED = [
  "apps/web/src/lib",
  "apps/box-agent/src/box-api.ts",
  "apps/box-agent/src/mcp/media-tools.ts",
  "apps/box-agent/test/fake-platform.ts",
  "packages/api/src/routers",
];
/** A declaration sharing this many fields with a contract object, and at least half of its own, mirrors it. */
const MIN_SHARED_FIELDS = 4;

function sourceFiles(path: string): string[] {
  const absolute = join(ROOT, path);
  if (statSync(absolute).isFile()) {
    return [absolute];
  }
  return readdirSync(absolute, { recursive: true, encoding: "utf8" })
    .filter((name) => /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name))
    .map((name) => join(absolute, name));
}

interface ZodLike {
  _zod?: { def: Record<string, unknown> & { type: string } };
}

/** Every object shape reachable from a schema, as its field names. */
function objectShapes(schema: unknown, found: Set<string>[] = [], seen = new Set<unknown>()): Set<string>[] {
  const def = (schema as ZodLike | undefined)?._zod?.def;
  if (!def || seen.has(schema)) {
    return found;
  }
  seen.add(schema);
  if (def.type === "object") {
    const shape = def.shape as Record<string, unknown>;
    found.push(new Set(Object.keys(shape)));
    for (const field of Object.values(shape)) {
      objectShapes(field, found, seen);
    }
    return found;
  }
  const children = [
    def.innerType,
    def.element,
    def.in,
    def.out,
    def.left,
    def.right,
    def.valueType,
    def.schema,
  ];
  for (const child of [...children, ...((def.options as unknown[] | undefined) ?? [])]) {
    if (child !== undefined) {
      objectShapes(child, found, seen);
    }
  }
  return found;
}

function contractShapes(router: unknown, path: string[] = []): { route: string; fields: Set<string> }[] {
  const orpc = (router as { "~orpc"?: { inputSchema?: unknown; outputSchema?: unknown } })["~orpc"];
  if (orpc) {
    return [...objectShapes(orpc.inputSchema), ...objectShapes(orpc.outputSchema)].map((fields) => ({
      route: path.join("."),
      fields,
    }));
  }
  return Object.entries(router as Record<string, unknown>).flatMap(([key, child]) =>
    contractShapes(child, [...path, key]),
  );
}

const SHAPES = contractShapes({ user: userContract, box: boxContract, boxAgent: boxAgentContract }).filter(
  (shape) => shape.fields.size >= MIN_SHARED_FIELDS,
);

/**
 * Interfaces and object type aliases, with their top-level field names. (A scan, not a parser: the
 * repo's TypeScript 7 has no compiler API, and our sources are formatted by Biome.)
 */
function declaredTypes(file: string): { name: string; line: number; fields: string[] }[] {
  const text = readFileSync(file, "utf8");
  const found: { name: string; line: number; fields: string[] }[] = [];
  const declaration = /\b(?:interface\s+(\w+)[^{=;]*|type\s+(\w+)(?:<[^=]*>)?\s*=\s*)\{/g;
  for (const match of text.matchAll(declaration)) {
    const open = (match.index ?? 0) + match[0].length - 1;
    let depth = 0;
    let close = open;
    for (; close < text.length; close++) {
      const char = text[close];
      if (char === "{" || char === "(" || char === "[") {
        depth++;
      } else if (char === "}" || char === ")" || char === "]") {
        depth--;
        if (depth === 0) {
          break;
        }
      }
    }
    const body = text.slice(open + 1, close);
    const fields: string[] = [];
    let level = 0;
    for (const line of body.split("\n")) {
      const field = level === 0 ? /^\s*(?:readonly\s+)?["']?([\w$]+)["']?\??\s*:/.exec(line) : null;
      if (field?.[1]) {
        fields.push(field[1]);
      }
      for (const char of line) {
        if (char === "{" || char === "(" || char === "[") {
          level++;
        } else if (char === "}" || char === ")" || char === "]") {
          level--;
        }
      }
    }
    const line = text.slice(0, match.index).split("\n").length;
    found.push({ name: match[1] ?? match[2] ?? "?", line, fields });
  }
  return found;
}

function handMirrors(): string[] {
  const problems: string[] = [];
  for (const file of SCANNED.flatMap(sourceFiles)) {
    const shown = relative(ROOT, file);
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((text, index) => {
        if (/\bz\.object\(/.test(text)) {
          problems.push(
            `${shown}:${index + 1}: a zod object outside packages/contract — move it to the contract`,
          );
        }
      });
    for (const declared of declaredTypes(file)) {
      for (const shape of SHAPES) {
        const shared = declared.fields.filter((field) => shape.fields.has(field));
        if (shared.length >= MIN_SHARED_FIELDS && shared.length * 2 >= declared.fields.length) {
          problems.push(
            `${shown}:${declared.line}: '${declared.name}' restates fields of the contract's ${shape.route} (${shared.join(", ")}) — infer it from @vps-claude/contract instead`,
          );
          break;
        }
      }
    }
  }
  return problems;
}

describe("wire types", () => {
  it("finds the contract's objects to compare against", () => {
    expect(SHAPES.length).toBeGreaterThan(20);
  });

  it("are declared only in packages/contract, never by hand on another side", () => {
    const problems = handMirrors();
    expect(problems, `hand-written wire types:\n${problems.join("\n")}`).toEqual([]);
  });

  it("would notice a hand-written mirror", () => {
    const file = join(ROOT, "packages/contract/test/fixtures/hand-mirror.ts");
    const declared = declaredTypes(file);
    const mirrors = declared.filter((type) =>
      SHAPES.some(
        (shape) => type.fields.filter((field) => shape.fields.has(field)).length >= MIN_SHARED_FIELDS,
      ),
    );
    expect(mirrors.map((type) => type.name)).toEqual(["DeployStep"]);
  });
});
