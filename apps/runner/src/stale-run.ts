import { readdirSync, readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { isAlive, readCommandLine, terminate } from "@vps-claude/embedded";
import { print } from "./output";

/**
 * Every process the runner starts carries this variable, set to the data directory, and passes it
 * on to its own children. After a runner was killed, the next start finds what it left by it.
 */
export const RUN_MARKER = "VPS_CLAUDE_RUN_DIR";
const LOCK_FILE = "runner.pid";

/** Claims the data directory for this runner; fails while another live runner holds it. */
export async function acquireRunLock(dataDir: string): Promise<void> {
  const lockFile = path.join(dataDir, LOCK_FILE);
  const holder = Number.parseInt(await readFile(lockFile, "utf8").catch(() => ""), 10);
  if (holder > 0 && holder !== process.pid && isAlive(holder) && isRunner(holder)) {
    throw new Error(
      `another 'npm start' (pid ${holder}) is already running from this checkout; stop it first (Ctrl-C in its terminal, or kill ${holder})`,
    );
  }
  await writeFile(lockFile, `${process.pid}\n`);
}

export async function releaseRunLock(dataDir: string): Promise<void> {
  const lockFile = path.join(dataDir, LOCK_FILE);
  const holder = Number.parseInt(await readFile(lockFile, "utf8").catch(() => ""), 10);
  if (holder === process.pid) {
    await rm(lockFile, { force: true });
  }
}

function isRunner(pid: number): boolean {
  return readCommandLine(pid).some((word) => word.endsWith(path.join("runner", "src", "main.ts")));
}

/** Stops the services (server, web, sprites-local and their children) an earlier, killed runner left running. */
export async function stopStaleChildren(dataDir: string): Promise<void> {
  const marker = `${RUN_MARKER}=${dataDir}`;
  const leftovers = processIds().filter((pid) => pid !== process.pid && environment(pid).includes(marker));
  if (leftovers.length === 0) {
    return;
  }
  print(
    "runner",
    `stopping ${leftovers.length} process(es) left running by an earlier run: ${leftovers.join(", ")}`,
  );
  await Promise.all(
    leftovers.map((pid) =>
      terminate(pid, [
        { signal: "SIGTERM", waitMs: 5_000 },
        { signal: "SIGKILL", waitMs: 2_000 },
      ]),
    ),
  );
}

function processIds(): number[] {
  try {
    return readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  } catch {
    return [];
  }
}

function environment(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  } catch {
    return [];
  }
}
