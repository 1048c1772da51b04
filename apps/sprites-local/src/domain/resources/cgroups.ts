import fs from "node:fs";
import path from "node:path";
import type { ResourcePolicy } from "./policy.js";

/** What the host offers: which cgroup version and which of the controllers we use (memory, pids, cpu). */
export interface CgroupSupport {
  version: "v2" | "v1";
  controllers: Array<"memory" | "pids" | "cpu">;
  /** Whether the CPU weight of all sprites together (their parent cgroup's) is set; false without the cpu controller. */
  spritesCpuWeighted: boolean;
}

/** One sprite's cgroup (v1: one directory per controller hierarchy; v2: one directory). */
export interface SpriteCgroup {
  /** The `cgroup.procs` files a process writes its pid to, to join the sprite's cgroup before it runs anything. */
  readonly procsFiles: string[];
  /** Writes the limits; returns sentences for what could not be applied now (e.g. memory below current use). */
  apply(policy: ResourcePolicy): string[];
  pids(): number[];
  usage(): { memoryBytes: number | null; pids: number | null };
  /** Kills every process in the cgroup, then removes it (best effort; a busy cgroup is left for the next start). */
  remove(): Promise<void>;
}

export interface CgroupHost {
  readonly support: CgroupSupport;
  create(name: string): SpriteCgroup;
  /** Removes the parent directories sprites-local made (when empty). */
  close(): void;
}

const V1_ROOT = "/sys/fs/cgroup";
const CPU_PERIOD_US = 100_000;

/** systemd's mapping of v1 shares onto v2 weights (1024 → 100). */
function sharesToWeight(shares: number): number {
  return Math.min(10_000, Math.max(1, Math.round((shares * 100) / 1024)));
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return null;
  }
}

function writeText(file: string, value: string): void {
  fs.writeFileSync(file, value);
}

function writeIfAllowed(file: string, value: string): boolean {
  try {
    writeText(file, value);
    return true;
  } catch {
    return false;
  }
}

function writeLabeled(file: string, value: string, what: string, problems: string[]): void {
  try {
    writeText(file, value);
  } catch (error) {
    problems.push(`${what}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The current process's cgroup per hierarchy, from /proc/self/cgroup ("4:memory:/a/b", "0::/a"). */
function ownCgroups(): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of (readText("/proc/self/cgroup") ?? "").split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) {
      continue;
    }
    const [, controllers = "", cgroupPath = "/"] = match;
    if (controllers === "") {
      result.set("", cgroupPath);
    }
    for (const controller of controllers.split(",")) {
      result.set(controller, cgroupPath);
    }
  }
  return result;
}

function killAll(procsFile: string): void {
  for (const pid of (readText(procsFile) ?? "").split("\n").filter(Boolean).map(Number)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

async function rmdirWhenEmpty(dir: string, procsFile: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        return;
      }
      if (code !== "EBUSY") {
        return;
      }
    }
    killAll(procsFile);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function readPids(file: string): number[] {
  return (readText(file) ?? "").split("\n").filter(Boolean).map(Number);
}

/** cgroup v1 (this is what a Debian host with the legacy/hybrid layout has): memory, pids and cpu hierarchies. */
function v1Host(hostId: string, spritesCpuShares: number): CgroupHost | null {
  const own = ownCgroups();
  const parents = new Map<"memory" | "pids" | "cpu", string>();
  for (const controller of ["memory", "pids", "cpu"] as const) {
    const mount = path.join(V1_ROOT, controller);
    const ownPath = own.get(controller);
    if (ownPath === undefined || !fs.existsSync(path.join(mount, "cgroup.procs"))) {
      continue;
    }
    // Nest under our own cgroup, so whatever confines sprites-local still confines its sprites.
    const parent = path.join(mount, ownPath, hostId);
    try {
      fs.mkdirSync(parent, { recursive: true });
      // A probe: the limit files must be writable, or this hierarchy is useless to us.
      const probe = path.join(parent, "probe");
      fs.mkdirSync(probe, { recursive: true });
      fs.rmdirSync(probe);
      parents.set(controller, parent);
    } catch {
      try {
        fs.rmdirSync(parent);
      } catch {
        // Not ours or not empty.
      }
    }
  }
  if (!parents.has("memory") && !parents.has("pids")) {
    for (const parent of parents.values()) {
      try {
        fs.rmdirSync(parent);
      } catch {
        // Leave it.
      }
    }
    return null;
  }
  const cpuParent = parents.get("cpu");
  const spritesCpuWeighted =
    cpuParent !== undefined && writeIfAllowed(path.join(cpuParent, "cpu.shares"), String(spritesCpuShares));
  return {
    support: { version: "v1", controllers: [...parents.keys()], spritesCpuWeighted },
    create(name) {
      const dirs = new Map<"memory" | "pids" | "cpu", string>();
      for (const [controller, parent] of parents) {
        const dir = path.join(parent, name);
        fs.mkdirSync(dir, { recursive: true });
        dirs.set(controller, dir);
      }
      const memory = dirs.get("memory");
      const pids = dirs.get("pids");
      const cpu = dirs.get("cpu");
      return {
        procsFiles: [...dirs.values()].map((dir) => path.join(dir, "cgroup.procs")),
        apply(policy) {
          const problems: string[] = [];
          if (memory) {
            const bytes = String(policy.memory_mb * 1024 * 1024);
            const memsw = path.join(memory, "memory.memsw.limit_in_bytes");
            const hasMemsw = fs.existsSync(memsw);
            const current = Number(readText(path.join(memory, "memory.limit_in_bytes")) ?? 0);
            // memsw must stay >= the RAM limit at every step: raise it first, lower it last.
            if (hasMemsw && Number(bytes) > current) {
              writeLabeled(memsw, bytes, "memory (with swap)", problems);
            }
            writeLabeled(path.join(memory, "memory.limit_in_bytes"), bytes, "memory", problems);
            if (hasMemsw && Number(bytes) <= current) {
              writeLabeled(memsw, bytes, "memory (with swap)", problems);
            }
          }
          if (pids) {
            writeLabeled(path.join(pids, "pids.max"), String(policy.pids), "pids", problems);
          }
          if (cpu) {
            writeLabeled(path.join(cpu, "cpu.shares"), String(policy.cpu_shares), "cpu shares", problems);
            writeLabeled(path.join(cpu, "cpu.cfs_period_us"), String(CPU_PERIOD_US), "cpu period", problems);
            const quota = policy.cpus === null ? -1 : Math.max(1000, Math.round(policy.cpus * CPU_PERIOD_US));
            writeLabeled(path.join(cpu, "cpu.cfs_quota_us"), String(quota), "cpus", problems);
          }
          return problems;
        },
        pids() {
          return readPids(path.join(memory ?? pids ?? cpu ?? "", "cgroup.procs"));
        },
        usage() {
          const memoryBytes = memory ? Number(readText(path.join(memory, "memory.usage_in_bytes"))) : null;
          const current = pids ? Number(readText(path.join(pids, "pids.current"))) : null;
          return {
            memoryBytes: Number.isFinite(memoryBytes) ? memoryBytes : null,
            pids: Number.isFinite(current) ? current : null,
          };
        },
        async remove() {
          for (const dir of dirs.values()) {
            killAll(path.join(dir, "cgroup.procs"));
          }
          for (const dir of dirs.values()) {
            await rmdirWhenEmpty(dir, path.join(dir, "cgroup.procs"));
          }
        },
      };
    },
    close() {
      for (const parent of parents.values()) {
        try {
          fs.rmdirSync(parent);
        } catch {
          // Still holds a sprite cgroup that could not be removed; the next start reuses it.
        }
      }
    },
  };
}

/**
 * cgroup v2. A cgroup with processes cannot hand controllers to its children ("no internal processes"),
 * so when our own cgroup is not the root, sprites-local first moves itself into a leaf `<own>/<hostId>-self`,
 * as a process given a delegated subtree (systemd `Delegate=yes`) is expected to.
 */
function v2Host(hostId: string, spritesCpuShares: number): CgroupHost | null {
  const mount = fs.existsSync(path.join(V1_ROOT, "cgroup.controllers"))
    ? V1_ROOT
    : fs.existsSync(path.join(V1_ROOT, "unified", "cgroup.controllers"))
      ? path.join(V1_ROOT, "unified")
      : null;
  const ownPath = ownCgroups().get("");
  if (mount === null || ownPath === undefined) {
    return null;
  }
  const own = path.join(mount, ownPath);
  const available = (readText(path.join(own, "cgroup.controllers")) ?? "").split(/\s+/);
  const wanted = (["memory", "pids", "cpu"] as const).filter((c) => available.includes(c));
  if (!wanted.includes("memory") && !wanted.includes("pids")) {
    return null;
  }
  const enable = (dir: string) =>
    writeText(path.join(dir, "cgroup.subtree_control"), wanted.map((c) => `+${c}`).join(" "));
  const parent = path.join(own, hostId);
  try {
    try {
      enable(own);
    } catch {
      if (ownPath === "/") {
        throw new Error("cannot enable controllers at the root");
      }
      const self = path.join(own, `${hostId}-self`);
      fs.mkdirSync(self, { recursive: true });
      writeText(path.join(self, "cgroup.procs"), String(process.pid));
      enable(own);
    }
    fs.mkdirSync(parent, { recursive: true });
    enable(parent);
  } catch {
    return null;
  }
  const spritesCpuWeighted =
    wanted.includes("cpu") &&
    writeIfAllowed(path.join(parent, "cpu.weight"), String(sharesToWeight(spritesCpuShares)));
  return {
    support: { version: "v2", controllers: wanted, spritesCpuWeighted },
    create(name) {
      const dir = path.join(parent, name);
      fs.mkdirSync(dir, { recursive: true });
      const has = (file: string) => fs.existsSync(path.join(dir, file));
      return {
        procsFiles: [path.join(dir, "cgroup.procs")],
        apply(policy) {
          const problems: string[] = [];
          if (has("memory.max")) {
            writeLabeled(
              path.join(dir, "memory.max"),
              String(policy.memory_mb * 1024 * 1024),
              "memory",
              problems,
            );
            if (has("memory.swap.max")) {
              writeLabeled(path.join(dir, "memory.swap.max"), "0", "swap", problems);
            }
          }
          if (has("pids.max")) {
            writeLabeled(path.join(dir, "pids.max"), String(policy.pids), "pids", problems);
          }
          if (has("cpu.weight")) {
            writeLabeled(
              path.join(dir, "cpu.weight"),
              String(sharesToWeight(policy.cpu_shares)),
              "cpu shares",
              problems,
            );
            const max =
              policy.cpus === null
                ? `max ${CPU_PERIOD_US}`
                : `${Math.max(1000, Math.round(policy.cpus * CPU_PERIOD_US))} ${CPU_PERIOD_US}`;
            writeLabeled(path.join(dir, "cpu.max"), max, "cpus", problems);
          }
          return problems;
        },
        pids() {
          return readPids(path.join(dir, "cgroup.procs"));
        },
        usage() {
          const memoryBytes = Number(readText(path.join(dir, "memory.current")));
          const current = Number(readText(path.join(dir, "pids.current")));
          return {
            memoryBytes: Number.isFinite(memoryBytes) ? memoryBytes : null,
            pids: Number.isFinite(current) ? current : null,
          };
        },
        async remove() {
          if (has("cgroup.kill")) {
            writeLabeled(path.join(dir, "cgroup.kill"), "1", "kill", []);
          } else {
            killAll(path.join(dir, "cgroup.procs"));
          }
          await rmdirWhenEmpty(dir, path.join(dir, "cgroup.procs"));
        },
      };
    },
    close() {
      try {
        fs.rmdirSync(parent);
      } catch {
        // Still holds a sprite cgroup; the next start reuses it.
      }
    },
  };
}

/**
 * cgroup v2 where the host delegates it, else cgroup v1, else null (rlimits only). Every sprite's
 * cgroup sits under one parent per host whose CPU weight is `spritesCpuShares` (v1 `cpu.shares`, v2
 * `cpu.weight` mapped), so all sprites together weigh that much against the processes beside
 * sprites-local, however many sprites there are.
 */
export function detectCgroups(hostId: string, spritesCpuShares: number): CgroupHost | null {
  return v2Host(hostId, spritesCpuShares) ?? v1Host(hostId, spritesCpuShares);
}
