import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import type { Logger } from "@vps-claude/logger";
import { FsError } from "../errors.js";
import type { SandboxMode } from "../sandbox.js";
import { type CgroupHost, detectCgroups, type SpriteCgroup } from "./cgroups.js";
import { measureDiskUsage } from "./disk-usage.js";
import {
  BUILTIN_RESOURCE_DEFAULTS,
  effectivePolicy,
  formatBytes,
  type ResourcePolicy,
  type ResourcePolicyOverrides,
} from "./policy.js";

export const DEFAULT_MAX_READ_BYTES = 32 * 1024 * 1024;
export const DEFAULT_SERVICE_LOG_BYTES = 4 * 1024 * 1024;
export const DEFAULT_DISK_CHECK_MS = 3_000;
/**
 * The CPU weight of all sprites together against the host's own processes, in shares (a nice-0
 * process weighs 1024). Low, so that on one machine the platform that drives the sprites (API,
 * webhooks, Postgres) is never starved by what runs in them; CPU nobody else wants still goes to
 * the sprites in full, since weights only matter when processes compete.
 */
export const DEFAULT_SPRITES_CPU_SHARES = 128;
/** A disk measurement younger than this is good enough to admit a filesystem-API write. */
const FRESH_USAGE_MS = 1_000;
const MIB = 1024 * 1024;

export interface ResourceHostOptions {
  /** Makes the cgroup names unique per sprites-local instance. */
  dataDir: string;
  logger: Logger;
  sandboxMode: SandboxMode;
  /** Host defaults for every sprite; a sprite's `/policy/resources` overrides them. */
  defaults?: ResourcePolicyOverrides;
  /** CPU weight of all sprites together against the host's own processes (shares; default 128). */
  spritesCpuShares?: number;
  /** Largest file `fs/read` serves (bytes). */
  maxReadBytes?: number;
  /** Bytes each service log file may reach before it rotates (one previous file is kept). */
  serviceLogBytes?: number;
  /** How often a running sprite's disk use is measured. */
  diskCheckMs?: number;
}

/** How each limit is enforced on this host, as the policy API and the startup log report it. */
export interface ResourceEnforcement {
  cgroup: "v2" | "v1" | null;
  memory: "cgroup" | "rlimit_data" | "none";
  cpu: "cgroup" | "none";
  /**
   * How the host's own processes keep precedence over all sprites together: the sprites' parent
   * cgroup's CPU weight, else a nice value on every sprite process (per process, not in total).
   */
  host_cpu_priority: "parent_cgroup" | "nice" | "none";
  pids: "cgroup" | "rlimit_nproc" | "none";
  nofile: "rlimit_nofile";
  disk: "rlimit_fsize+usage_scan";
}

export interface SpriteResourceUsage {
  memory_mb: number | null;
  pids: number | null;
  disk_mb: number | null;
  over_disk_quota: boolean;
}

export interface SpriteResourcesTarget {
  name: string;
  /** The sprite's home and /tmp on the host: what its disk quota counts. */
  diskDirs: string[];
  overrides(): ResourcePolicyOverrides;
  /** Pids of the sprite's processes when there is no cgroup to list them. */
  fallbackPids(): number[];
  logger: Logger;
}

/** Runs `prlimit --pid` for each pid (only on state changes: new policy, crossing the disk quota). */
function prlimitEach(pids: number[], limits: string[]): Promise<void> {
  if (pids.length === 0) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const child = spawn(
      "/bin/sh",
      [
        "-c",
        `for p do prlimit --pid "$p" ${limits.join(" ")} 2>/dev/null; done; exit 0`,
        "sh",
        ...pids.map(String),
      ],
      { stdio: "ignore" },
    );
    child.once("error", () => resolve());
    child.once("close", () => resolve());
  });
}

/** The nice value whose scheduler weight is nearest `shares` (each nice step weighs 1.25× less; 0 = 1024). */
export function niceForShares(shares: number): number {
  return Math.min(19, Math.max(0, Math.round(Math.log(1024 / shares) / Math.log(1.25))));
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The host's side of sprite resource limits. One cgroup per sprite holds every process of it (execs,
 * services, the filesystem helper): each process joins it from a launcher shell before anything of the
 * sprite runs, so no fork can escape in between. rlimits (prlimit) add what cgroups do not cover: open
 * files and the largest file (RLIMIT_FSIZE = disk_mb), and stand in for memory and pids without cgroups.
 *
 * Disk: RLIMIT_FSIZE stops any single file past the quota (fallocate -l 20G fails with EFBIG at once); a
 * `du` of home + /tmp every few seconds catches many smaller files. Over quota, filesystem-API writes are
 * refused (507) and every process of the sprite gets RLIMIT_FSIZE 0, so no file can grow by another byte
 * (a Node process sees EFBIG; others die of SIGXFSZ) until files are deleted — the sprite can still read,
 * run and `rm`, and the next scan under the quota restores the limit.
 */
export class ResourceHost {
  readonly defaults: ResourcePolicy;
  readonly maxReadBytes: number;
  readonly serviceLogBytes: number;
  readonly diskCheckMs: number;
  readonly enforcement: ResourceEnforcement;
  readonly spritesCpuShares: number;
  /** Where no cgroup weighs the sprites' CPU: the nice value every sprite process starts at. */
  readonly spritesNice: number;
  private readonly cgroups: CgroupHost | null;
  private readonly logger: Logger;
  private readonly sandboxMode: SandboxMode;
  private readonly isRoot = process.getuid?.() === 0;

  constructor(options: ResourceHostOptions) {
    this.defaults = effectivePolicy(BUILTIN_RESOURCE_DEFAULTS, options.defaults);
    this.maxReadBytes = options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
    this.serviceLogBytes = options.serviceLogBytes ?? DEFAULT_SERVICE_LOG_BYTES;
    this.diskCheckMs = options.diskCheckMs ?? DEFAULT_DISK_CHECK_MS;
    this.logger = options.logger;
    this.sandboxMode = options.sandboxMode;
    this.spritesCpuShares = options.spritesCpuShares ?? DEFAULT_SPRITES_CPU_SHARES;
    const hostId = `sprites-local-${createHash("sha256").update(options.dataDir).digest("hex").slice(0, 12)}`;
    this.cgroups = detectCgroups(hostId, this.spritesCpuShares);
    const controllers = this.cgroups?.support.controllers ?? [];
    // A sprite in a cpu cgroup of its own competes as that cgroup, whatever its processes' nice values.
    this.spritesNice = controllers.includes("cpu") ? 0 : niceForShares(this.spritesCpuShares);
    this.enforcement = {
      cgroup: this.cgroups?.support.version ?? null,
      memory: controllers.includes("memory") ? "cgroup" : "rlimit_data",
      cpu: controllers.includes("cpu") ? "cgroup" : "none",
      host_cpu_priority: this.cgroups?.support.spritesCpuWeighted
        ? "parent_cgroup"
        : this.spritesNice > 0
          ? "nice"
          : "none",
      // RLIMIT_NPROC counts per uid, so it bounds one sprite only when each sprite has its own uid.
      pids: controllers.includes("pids")
        ? "cgroup"
        : this.sandboxMode === "bwrap-uid"
          ? "rlimit_nproc"
          : "none",
      nofile: "rlimit_nofile",
      disk: "rlimit_fsize+usage_scan",
    };
  }

  logMode(): void {
    const details = {
      enforcement: this.enforcement,
      defaults: this.defaults,
      spritesCpuShares: this.spritesCpuShares,
      maxReadBytes: this.maxReadBytes,
    };
    if (this.enforcement.cgroup === null) {
      this.logger.warn(
        details,
        "no usable cgroup (v2 delegation or v1 memory/pids hierarchies as root): sprite memory and pids are limited per process only (rlimits), CPU not at all",
      );
      return;
    }
    this.logger.info(
      details,
      `sprite resources are limited with cgroup ${this.enforcement.cgroup} and rlimits`,
    );
  }

  forSprite(target: SpriteResourcesTarget): SpriteResources {
    return new SpriteResources(this, target, this.cgroups);
  }

  /** Removes the parent cgroups (after every sprite's own was removed). */
  close(): void {
    this.cgroups?.close();
  }

  /** The argv prefix that gives a new sprite process its rlimits (and, without a cpu cgroup, its nice value). */
  limitsPrefix(policy: ResourcePolicy, overQuota: boolean): string[] {
    const prlimit = ["/usr/bin/prlimit", ...this.rlimitArgs(policy, overQuota), "--"];
    return this.spritesNice > 0 ? ["/usr/bin/nice", "-n", String(this.spritesNice), ...prlimit] : prlimit;
  }

  /** prlimit arguments for a new process of a sprite under `policy`. */
  private rlimitArgs(policy: ResourcePolicy, overQuota: boolean): string[] {
    const fsize = overQuota ? 0 : policy.disk_mb * MIB;
    const args = [`--nofile=${policy.nofile}:${policy.nofile}`, `--fsize=${fsize}:${fsize}`];
    if (this.enforcement.pids === "rlimit_nproc") {
      args.push(`--nproc=${policy.pids}:${policy.pids}`);
    }
    if (this.enforcement.memory === "rlimit_data") {
      // RLIMIT_DATA counts writable private memory, not the address space runtimes reserve (RLIMIT_AS would break Node).
      const bytes = policy.memory_mb * MIB;
      args.push(`--data=${bytes}:${bytes}`);
    }
    return args;
  }

  /** A non-root host may lower its own rlimits but never raise a hard limit again: change soft ones only. */
  liveLimit(flag: string, value: number): string {
    return this.isRoot ? `--${flag}=${value}:${value}` : `--${flag}=${value}:`;
  }
}

/** One sprite's limits: its cgroup, the launcher that puts processes in it, and the disk quota watch. */
export class SpriteResources {
  private readonly host: ResourceHost;
  private readonly target: SpriteResourcesTarget;
  private readonly cgroups: CgroupHost | null;
  private cgroup: SpriteCgroup | null = null;
  private timer: NodeJS.Timeout | null = null;
  private measuring: Promise<number> | null = null;
  private diskBytes: number | null = null;
  private measuredAt = 0;
  private overQuota = false;
  private closed = false;
  /** Some limit could not be written (memory below current use): try again when the next process starts. */
  private applyPending = false;

  constructor(host: ResourceHost, target: SpriteResourcesTarget, cgroups: CgroupHost | null) {
    this.host = host;
    this.target = target;
    this.cgroups = cgroups;
  }

  policy(): ResourcePolicy {
    return effectivePolicy(this.host.defaults, this.target.overrides());
  }

  get enforcement(): ResourceEnforcement {
    return this.host.enforcement;
  }

  get maxReadBytes(): number {
    return this.host.maxReadBytes;
  }

  get serviceLogBytes(): number {
    return this.host.serviceLogBytes;
  }

  /**
   * The argv prefix every process of the sprite is started with: a shell that moves itself into the
   * sprite's cgroup and then execs prlimit (after nice, where no cgroup weighs the sprites' CPU),
   * which sets the rlimits and execs the sandbox.
   */
  launchPrefix(): string[] {
    const policy = this.policy();
    const cgroup = this.ensureCgroup(policy);
    this.watchDisk();
    const limits = this.host.limitsPrefix(policy, this.overQuota);
    if (!cgroup || cgroup.procsFiles.length === 0) {
      return limits;
    }
    const joins = cgroup.procsFiles.map((file) => `echo $$ > ${shellQuote(file)}`).join(" && ");
    const script = `${joins} || { echo "sprites-local: cannot put the process in the sprite's cgroup" >&2; exit 125; }; exec "$@"`;
    return ["/bin/sh", "-c", script, "sprites-local-launch", ...limits];
  }

  /** Applies the current policy to the sprite's cgroup and running processes; returns what must wait for the next start. */
  async applyNow(): Promise<string[]> {
    const policy = this.policy();
    const pending = this.cgroup ? this.cgroup.apply(policy) : [];
    this.applyPending = pending.length > 0;
    const pids = this.pids();
    await prlimitEach(pids, [
      this.host.liveLimit("nofile", policy.nofile),
      this.host.liveLimit("fsize", this.overQuota ? 0 : policy.disk_mb * MIB),
    ]);
    if (this.host.enforcement.pids === "rlimit_nproc" || this.host.enforcement.memory === "rlimit_data") {
      pending.push("per-process limits (nproc/data) reach processes started from now on");
    }
    this.diskBytes = null;
    void this.checkDisk();
    return pending;
  }

  usage(): SpriteResourceUsage {
    const cgroupUsage = this.cgroup?.usage() ?? { memoryBytes: null, pids: null };
    return {
      memory_mb:
        cgroupUsage.memoryBytes === null ? null : Math.round((cgroupUsage.memoryBytes / MIB) * 10) / 10,
      pids: cgroupUsage.pids,
      disk_mb: this.diskBytes === null ? null : Math.round((this.diskBytes / MIB) * 10) / 10,
      over_disk_quota: this.overQuota,
    };
  }

  /** Disk use now (measured if the last figure is stale). */
  async diskUsage(): Promise<number> {
    if (this.diskBytes !== null && Date.now() - this.measuredAt < FRESH_USAGE_MS) {
      return this.diskBytes;
    }
    return this.checkDisk();
  }

  /** Refuses a filesystem-API write that would take the sprite past its disk quota. */
  async assertCanWrite(bytes: number, errorPath: string): Promise<void> {
    const policy = this.policy();
    const quota = policy.disk_mb * MIB;
    const used = await this.diskUsage();
    if (used + bytes > quota) {
      throw new FsError(
        "ENOSPC",
        `sprite '${this.target.name}' uses ${formatBytes(used)} of its ${formatBytes(quota)} disk (disk_mb=${policy.disk_mb}); this ${formatBytes(bytes)} write would exceed it. Delete files, or raise disk_mb with POST /v1/sprites/${this.target.name}/policy/resources`,
        errorPath,
      );
    }
  }

  /** Marks the disk figure stale after a write through the API. */
  noteWrite(): void {
    this.measuredAt = 0;
  }

  /** Cold sleep: nothing runs, so nothing to watch until the next start. */
  pause(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Sprite deleted or sprites-local stopping: kill what is left in the cgroup and remove it. */
  async close(): Promise<void> {
    this.closed = true;
    this.pause();
    const cgroup = this.cgroup;
    this.cgroup = null;
    await cgroup?.remove();
  }

  private ensureCgroup(policy: ResourcePolicy): SpriteCgroup | null {
    if (this.cgroup && this.applyPending) {
      this.applyPending = this.cgroup.apply(policy).length > 0;
    }
    if (this.cgroup || !this.cgroups || this.closed) {
      return this.cgroup;
    }
    const cgroup = this.cgroups.create(this.target.name);
    const problems = cgroup.apply(policy);
    if (problems.length > 0) {
      this.target.logger.warn({ problems }, "some resource limits could not be set on the sprite's cgroup");
    }
    this.cgroup = cgroup;
    return cgroup;
  }

  private pids(): number[] {
    return this.cgroup ? this.cgroup.pids() : this.target.fallbackPids();
  }

  private watchDisk(): void {
    if (this.timer || this.closed) {
      return;
    }
    this.timer = setInterval(() => {
      void this.checkDisk();
    }, this.host.diskCheckMs);
    this.timer.unref();
  }

  private checkDisk(): Promise<number> {
    this.measuring ??= (async () => {
      try {
        const existing = this.target.diskDirs.filter((dir) => fs.existsSync(dir));
        const bytes = existing.length > 0 ? await measureDiskUsage(existing) : 0;
        this.diskBytes = bytes;
        this.measuredAt = Date.now();
        await this.enforceQuota(bytes);
        return bytes;
      } finally {
        this.measuring = null;
      }
    })();
    return this.measuring;
  }

  private async enforceQuota(bytes: number): Promise<void> {
    const policy = this.policy();
    const over = bytes > policy.disk_mb * MIB;
    if (over === this.overQuota || this.closed) {
      return;
    }
    this.overQuota = over;
    const fsize = over ? 0 : policy.disk_mb * MIB;
    await prlimitEach(this.pids(), [this.host.liveLimit("fsize", fsize)]);
    if (over) {
      this.target.logger.warn(
        { used: bytes, disk_mb: policy.disk_mb },
        "sprite is over its disk quota: files can no longer grow until it deletes some",
      );
    } else {
      this.target.logger.info(
        { used: bytes, disk_mb: policy.disk_mb },
        "sprite is back under its disk quota",
      );
    }
  }
}
