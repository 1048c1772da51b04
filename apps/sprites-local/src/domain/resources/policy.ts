import { ApiError } from "../errors.js";

/**
 * A sprite's resource policy, in the Sprites API's snake_case (`/v1/sprites/{name}/policy/resources`).
 * Every limit holds for the sprite as a whole (all its execs, services and the filesystem helper),
 * except `nofile`, which is per process (RLIMIT_NOFILE).
 */
export interface ResourcePolicy {
  /** Memory (RAM, no swap) for the whole sprite, in MiB; past it the kernel's OOM killer picks a process of the sprite. */
  memory_mb: number;
  /** Relative CPU weight against other sprites (cgroup v1 `cpu.shares`; mapped onto v2 `cpu.weight`). 1024 = an equal share. */
  cpu_shares: number;
  /** Hard CPU cap in CPUs (1.5 = one and a half cores), or null for none (the weight alone shares the host). */
  cpus: number | null;
  /** Processes and threads the sprite may have at once. */
  pids: number;
  /** Open files per process. */
  nofile: number;
  /** Disk for the sprite's home and /tmp together, in MiB; also the largest single file. */
  disk_mb: number;
}

export type ResourcePolicyOverrides = Partial<ResourcePolicy>;

export const BUILTIN_RESOURCE_DEFAULTS: ResourcePolicy = {
  memory_mb: 2048,
  cpu_shares: 1024,
  cpus: null,
  pids: 512,
  nofile: 4096,
  disk_mb: 10 * 1024,
};

interface FieldRule {
  min: number;
  max: number;
  integer: boolean;
  nullable: boolean;
  unit: string;
}

const RULES: Record<keyof ResourcePolicy, FieldRule> = {
  memory_mb: { min: 16, max: 1024 * 1024, integer: true, nullable: false, unit: "MiB" },
  cpu_shares: { min: 2, max: 262_144, integer: true, nullable: false, unit: "shares" },
  cpus: { min: 0.01, max: 1024, integer: false, nullable: true, unit: "CPUs" },
  pids: { min: 16, max: 4_194_304, integer: true, nullable: false, unit: "processes" },
  nofile: { min: 64, max: 1_048_576, integer: true, nullable: false, unit: "files" },
  disk_mb: { min: 16, max: 64 * 1024 * 1024, integer: true, nullable: false, unit: "MiB" },
};

export const RESOURCE_FIELDS = Object.keys(RULES) as Array<keyof ResourcePolicy>;

function describeRule(field: keyof ResourcePolicy): string {
  const rule = RULES[field];
  const kind = rule.integer ? "an integer" : "a number";
  return `${field} must be ${kind} between ${rule.min} and ${rule.max} (${rule.unit})${rule.nullable ? " or null for no cap" : ""}`;
}

/** Checks one value; returns an error sentence or null. */
function invalid(field: keyof ResourcePolicy, value: unknown): string | null {
  const rule = RULES[field];
  if (value === null && rule.nullable) {
    return null;
  }
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    (rule.integer && !Number.isInteger(value)) ||
    value < rule.min ||
    value > rule.max
  ) {
    return `${describeRule(field)}, got ${JSON.stringify(value)}`;
  }
  return null;
}

/**
 * Parses a POST body: the fields given replace the sprite's current values, `null` returns a field to
 * the host default (for `cpus`, null means "no cap" and is kept as such), absent fields are unchanged.
 */
export function parseResourcePolicyUpdate(
  body: Record<string, unknown>,
  current: ResourcePolicyOverrides,
): ResourcePolicyOverrides {
  const unknown = Object.keys(body).filter((key) => !(key in RULES));
  if (unknown.length > 0) {
    throw new ApiError(
      "invalid_request",
      `unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")}; the resource policy has ${RESOURCE_FIELDS.join(", ")}`,
    );
  }
  const next: ResourcePolicyOverrides = { ...current };
  const problems: string[] = [];
  for (const field of RESOURCE_FIELDS) {
    if (!(field in body)) {
      continue;
    }
    const value = body[field];
    if (value === null && !RULES[field].nullable) {
      delete next[field];
      continue;
    }
    const problem = invalid(field, value);
    if (problem) {
      problems.push(problem);
      continue;
    }
    (next as Record<string, unknown>)[field] = value;
  }
  if (problems.length > 0) {
    throw new ApiError("invalid_request", problems.join("; "));
  }
  return next;
}

/** The policy in force: the host defaults with the sprite's own overrides on top. */
export function effectivePolicy(
  defaults: ResourcePolicy,
  overrides: ResourcePolicyOverrides = {},
): ResourcePolicy {
  return { ...defaults, ...overrides };
}

/** Reads the host defaults from the environment (SPRITES_LOCAL_MEMORY_MB, …); a bad value fails startup. */
export function resourceDefaultsFromEnv(env: NodeJS.ProcessEnv): ResourcePolicyOverrides {
  const names: Record<keyof ResourcePolicy, string> = {
    memory_mb: "SPRITES_LOCAL_MEMORY_MB",
    cpu_shares: "SPRITES_LOCAL_CPU_SHARES",
    cpus: "SPRITES_LOCAL_CPUS",
    pids: "SPRITES_LOCAL_PIDS",
    nofile: "SPRITES_LOCAL_NOFILE",
    disk_mb: "SPRITES_LOCAL_DISK_MB",
  };
  const overrides: ResourcePolicyOverrides = {};
  for (const field of RESOURCE_FIELDS) {
    const raw = env[names[field]];
    if (raw === undefined || raw === "") {
      continue;
    }
    const value = Number(raw);
    const problem = invalid(field, value);
    if (problem) {
      throw new Error(`${names[field]}='${raw}': ${describeRule(field)}`);
    }
    (overrides as Record<string, unknown>)[field] = value;
  }
  return overrides;
}

const UNITS = ["bytes", "KiB", "MiB", "GiB", "TiB"];

/** 1073741824 → "1.0 GiB"; used in messages people read. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
