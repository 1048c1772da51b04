import { basename } from "node:path";
import type { SpritesClient } from "@vps-claude/sprites";
import { commandLine, type ProcessMemory, processMemory, processTree } from "../lib/process-memory";

/**
 * The resident memory of a box's box-agent daemon. sprites-local reports the service's pid as the
 * host pid of its sandbox (bwrap); the daemon is the node process below it running `box-agent.mjs serve`.
 */
export async function boxAgentMemory(sprites: SpritesClient, spriteName: string): Promise<ProcessMemory> {
  const service = await sprites.getService(spriteName, "box-agent");
  if (!service?.pid) {
    throw new Error(
      `sprite ${spriteName} reports no running box-agent service (${service?.status ?? "none"})`,
    );
  }
  // bwrap's own processes carry the same arguments; the daemon is the one whose program is node.
  const daemon = processTree(service.pid).find((pid) => {
    const [program = "", script = "", command] = commandLine(pid);
    return basename(program).startsWith("node") && script.endsWith("box-agent.mjs") && command === "serve";
  });
  const memory = daemon === undefined ? undefined : processMemory(daemon);
  if (!memory) {
    throw new Error(`no 'box-agent.mjs serve' process below pid ${service.pid} in sprite ${spriteName}`);
  }
  return memory;
}
