import { chmodSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * Packages the bundle does not contain. A sandbox provides them (NODE_PATH or a node_modules next to
 * the bundle): better-sqlite3 is a native addon built for the machine, and the Agent SDK finds its
 * Claude Code binary (an optional platform package) relative to itself.
 */
export const BUNDLE_EXTERNALS = ["better-sqlite3", "@anthropic-ai/claude-agent-sdk"];

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export async function bundleBoxAgent(outfile = join(appDir, "dist", "box-agent.mjs")): Promise<string> {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(appDir, "src", "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: BUNDLE_EXTERNALS,
    // The shebang comes from src/main.ts. Bundled CommonJS packages (pino and friends) call require() for node built-ins; ESM has none.
    banner: {
      js: [
        'import { createRequire as __boxAgentCreateRequire } from "node:module";',
        "const require = __boxAgentCreateRequire(import.meta.url);",
      ].join("\n"),
    },
    legalComments: "none",
    logLevel: "warning",
  });
  chmodSync(outfile, 0o755);
  return outfile;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outfile = await bundleBoxAgent(process.argv[2] === undefined ? undefined : resolve(process.argv[2]));
  process.stdout.write(`${outfile}\n`);
}
