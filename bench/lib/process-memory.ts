import { readdirSync, readFileSync } from "node:fs";

/**
 * Host-side /proc readings. Every sprites-local command runs in its own PID namespace, so a process
 * in a sandbox cannot see the sandbox's service; the host (where the benchmark runs) sees them all.
 */

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function parentOf(pid: number): number | undefined {
  const stat = readProc(pid, "stat");
  if (stat === undefined) {
    return undefined;
  }
  // The command name sits in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[1]);
}

export function commandLine(pid: number): string[] {
  return (readProc(pid, "cmdline") ?? "").split("\0").filter(Boolean);
}

/** `root` and every process below it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const parent = parentOf(pid);
    if (parent !== undefined) {
      children.set(parent, [...(children.get(parent) ?? []), pid]);
    }
  }
  const tree: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export interface ProcessMemory {
  pid: number;
  rssMb: number;
  /** Heap, stacks and other private memory: what a second instance would add. */
  rssAnonMb: number;
  /** Mapped files (the node binary, libraries), shared with every other node process. */
  rssFileMb: number;
}

const toMb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

export function processMemory(pid: number): ProcessMemory | undefined {
  const status = readProc(pid, "status");
  if (status === undefined) {
    return undefined;
  }
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return {
    pid,
    rssMb: toMb(field("VmRSS")),
    rssAnonMb: toMb(field("RssAnon")),
    rssFileMb: toMb(field("RssFile")),
  };
}

/** Ends (SIGKILL) every process whose command line mentions `marker`; returns how many there were. */
export function killProcessesMentioning(marker: string): number {
  let killed = 0;
  for (const pid of allPids()) {
    if (pid !== process.pid && commandLine(pid).some((arg) => arg.includes(marker))) {
      try {
        process.kill(pid, "SIGKILL");
        killed++;
      } catch {
        // Already gone.
      }
    }
  }
  return killed;
}
