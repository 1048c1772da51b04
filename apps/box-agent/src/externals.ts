import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type BetterSqlite3 from "better-sqlite3";

type ClaudeAgentSdk = typeof import("@anthropic-ai/claude-agent-sdk");

/**
 * The bundle leaves these two packages out (a native addon, and an SDK that finds its CLI binary
 * next to itself). ESM `import` ignores NODE_PATH, so they are resolved through `require`, which
 * honours it: a sandbox can point NODE_PATH at a read-only node_modules instead of copying one.
 * Loading lazily also keeps `box-agent mcp` from paying for modules it never uses.
 */
const require = createRequire(import.meta.url);

function isModuleNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "MODULE_NOT_FOUND";
}

function missingPackage(name: string, error: unknown): Error {
  const reason = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
  return new Error(
    `box-agent needs the package '${name}', which is not bundled: put a node_modules holding it next to ` +
      `box-agent.mjs (or in a parent directory), or set NODE_PATH to one (${reason})`,
    { cause: error },
  );
}

export function loadBetterSqlite3(): typeof BetterSqlite3 {
  try {
    return require("better-sqlite3") as typeof BetterSqlite3;
  } catch (error) {
    throw isModuleNotFound(error) ? missingPackage("better-sqlite3", error) : error;
  }
}

let sdk: Promise<ClaudeAgentSdk> | undefined;

export function loadClaudeAgentSdk(): Promise<ClaudeAgentSdk> {
  if (sdk === undefined) {
    const loading = (async () => {
      let entry: string;
      try {
        entry = require.resolve("@anthropic-ai/claude-agent-sdk");
      } catch (error) {
        throw isModuleNotFound(error) ? missingPackage("@anthropic-ai/claude-agent-sdk", error) : error;
      }
      return (await import(pathToFileURL(entry).href)) as ClaudeAgentSdk;
    })();
    // A failed load is not kept: the next run tries again, e.g. once node_modules is in place.
    loading.catch(() => {
      if (sdk === loading) {
        sdk = undefined;
      }
    });
    sdk = loading;
  }
  return sdk;
}
