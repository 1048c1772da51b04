import fs from "node:fs";

interface ProcessEntry {
  pid: number;
  ppid: number;
  comm: string;
}

/**
 * Reads /proc once. A sandboxed command runs several levels below the process we spawned
 * (bwrap → bwrap's pid-1 reaper → the command), so signals and freezes have to walk the tree.
 */
function readProcessTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  let names: string[];
  try {
    names = fs.readdirSync("/proc");
  } catch {
    return entries;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    // The command name sits in parentheses and may itself contain spaces or parentheses.
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    if (open < 0 || close < 0) {
      continue;
    }
    const fields = stat.slice(close + 2).split(" ");
    const ppid = Number(fields[1]);
    entries.push({ pid: Number(name), ppid, comm: stat.slice(open + 1, close) });
  }
  return entries;
}

/** Descendants of `root` in breadth-first order (the root itself excluded). */
export function descendants(root: number): ProcessEntry[] {
  const table = readProcessTable();
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of table) {
    const list = children.get(entry.ppid);
    if (list) {
      list.push(entry);
    } else {
      children.set(entry.ppid, [entry]);
    }
  }
  const result: ProcessEntry[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift();
    if (pid === undefined) {
      break;
    }
    for (const child of children.get(pid) ?? []) {
      result.push(child);
      queue.push(child.pid);
    }
  }
  return result;
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone: nothing to signal.
  }
}

/**
 * Signals `root`'s process group (sandboxes are spawned as group leaders) and everything below `root`,
 * which also reaches processes that started their own session. Children first for SIGSTOP so none
 * runs on after its parent froze; parents first for SIGCONT.
 */
export function signalTree(root: number, signal: NodeJS.Signals): void {
  const below = descendants(root);
  try {
    process.kill(-root, signal);
  } catch {
    // No such group any more: fall back to the individual processes.
  }
  if (signal === "SIGCONT") {
    trySignal(root, signal);
    for (const entry of below) {
      trySignal(entry.pid, signal);
    }
    return;
  }
  for (const entry of below.reverse()) {
    trySignal(entry.pid, signal);
  }
  trySignal(root, signal);
}

/** Resolves the command's pid, waiting briefly: right after a spawn bwrap may not have started it yet. */
export async function waitForCommandPid(
  find: () => number | null,
  timeoutMs = 2_000,
): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = find();
    if (pid !== null || Date.now() >= deadline) {
      return pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The pid of the user's command under a bwrap process: the first descendant that is not bwrap itself.
 * (setpriv execs into the command, so it never shows up as its own process.)
 */
export function sandboxedCommandPid(root: number): number | null {
  for (const entry of descendants(root)) {
    if (entry.comm !== "bwrap") {
      return entry.pid;
    }
  }
  return null;
}

/** First descendant of `root` (used to find the shell that owns a pty under `script`). */
export function firstChildPid(root: number): number | null {
  return descendants(root)[0]?.pid ?? null;
}
