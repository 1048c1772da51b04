import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleBoxAgent } from "../../../../apps/box-agent/scripts/bundle";

/** Sandboxes on sprites-local read the host's node_modules (the Agent SDK, better-sqlite3) read-only. */
export const REPO_NODE_MODULES = fileURLToPath(new URL("../../../../node_modules", import.meta.url));

let bundle: Promise<string> | undefined;
/** One box-agent bundle per process, built into its own temp dir (test files run in parallel). */
export function testBoxAgentBundle(): Promise<string> {
  bundle ??= mkdtemp(join(tmpdir(), "box-agent-bundle-")).then((dir) =>
    bundleBoxAgent(join(dir, "box-agent.mjs")),
  );
  return bundle;
}
