import path from "node:path";
import { DEFAULT_SPRITES_CPU_SHARES } from "./domain/resources/host.js";
import { resourceDefaultsFromEnv } from "./domain/resources/policy.js";
import {
  DEFAULT_COLD_AFTER_MS,
  DEFAULT_IDLE_MS,
  DEFAULT_PORT,
  DEFAULT_PROXY_PORT,
  type SpritesLocalOptions,
} from "./http/server.js";

export interface SpritesLocalEnv {
  port: number;
  proxyPort: number;
  platformUrl: string | undefined;
  network: "auto" | "host";
  token: string;
  dataDir: string;
  idleMs: number;
  coldAfterMs: number;
  readOnlyBinds: string[];
  sandbox: "auto" | "none";
  resources: NonNullable<SpritesLocalOptions["resources"]>;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}='${raw}' must be an integer between ${min} and ${max}`);
  }
  return value;
}

/**
 * The sprites-local configuration, read once at startup:
 * SPRITES_LOCAL_TOKEN (required), SPRITES_LOCAL_PORT (33010), SPRITES_LOCAL_DATA (.data/sprites),
 * SPRITES_LOCAL_IDLE_MS (30000), SPRITES_LOCAL_COLD_MS (300000), SPRITES_LOCAL_RO_BINDS (colon-separated),
 * SPRITES_LOCAL_SANDBOX ("auto" or "none"), SPRITES_LOCAL_PROXY_PORT (33011, the sprite URLs),
 * SPRITES_LOCAL_PLATFORM_URL (the SERVER_URL sprites reach), SPRITES_LOCAL_NETWORK ("auto" or "host").
 */
export function readSpritesLocalEnv(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): SpritesLocalEnv {
  const token = env.SPRITES_LOCAL_TOKEN ?? "";
  if (token.length === 0) {
    throw new Error("SPRITES_LOCAL_TOKEN is required: it is the API token clients must present");
  }
  const sandbox = env.SPRITES_LOCAL_SANDBOX ?? "auto";
  if (sandbox !== "auto" && sandbox !== "none") {
    throw new Error(`SPRITES_LOCAL_SANDBOX='${sandbox}' must be "auto" or "none"`);
  }
  const network = env.SPRITES_LOCAL_NETWORK || "auto";
  if (network !== "auto" && network !== "host") {
    throw new Error(
      `SPRITES_LOCAL_NETWORK='${network}' must be "auto" (a network namespace per sprite) or "host"`,
    );
  }
  const platformUrl = env.SPRITES_LOCAL_PLATFORM_URL || undefined;
  if (platformUrl !== undefined && !URL.canParse(platformUrl)) {
    throw new Error(
      `SPRITES_LOCAL_PLATFORM_URL='${platformUrl}' must be a URL such as http://127.0.0.1:33000`,
    );
  }
  const binds = (env.SPRITES_LOCAL_RO_BINDS ?? "").split(":").filter((p) => p.length > 0);
  for (const bind of binds) {
    if (!path.isAbsolute(bind)) {
      throw new Error(`SPRITES_LOCAL_RO_BINDS entry '${bind}' must be an absolute path`);
    }
  }
  return {
    token,
    port: integer(env, "SPRITES_LOCAL_PORT", DEFAULT_PORT, 0, 65535),
    // A free API port (tests, benchmarks) implies a free sprite-URL port unless one is named.
    proxyPort: integer(
      env,
      "SPRITES_LOCAL_PROXY_PORT",
      env.SPRITES_LOCAL_PORT === "0" ? 0 : DEFAULT_PROXY_PORT,
      0,
      65535,
    ),
    platformUrl,
    network,
    dataDir: path.resolve(cwd, env.SPRITES_LOCAL_DATA || ".data/sprites"),
    idleMs: integer(env, "SPRITES_LOCAL_IDLE_MS", DEFAULT_IDLE_MS, 10, 7 * 24 * 3_600_000),
    coldAfterMs: integer(env, "SPRITES_LOCAL_COLD_MS", DEFAULT_COLD_AFTER_MS, 10, 30 * 24 * 3_600_000),
    readOnlyBinds: binds,
    sandbox,
    // Per-sprite limits (SPRITES_LOCAL_MEMORY_MB, _CPU_SHARES, _CPUS, _PIDS, _NOFILE, _DISK_MB), the
    // largest file fs/read serves (SPRITES_LOCAL_MAX_READ_MB, 32) and the service log cap (SPRITES_LOCAL_SERVICE_LOG_KB, 4096).
    resources: {
      defaults: resourceDefaultsFromEnv(env),
      // All sprites together against the host's own processes (the platform, Postgres, Redis).
      spritesCpuShares: integer(
        env,
        "SPRITES_LOCAL_TOTAL_CPU_SHARES",
        DEFAULT_SPRITES_CPU_SHARES,
        2,
        262_144,
      ),
      maxReadBytes: integer(env, "SPRITES_LOCAL_MAX_READ_MB", 32, 1, 256) * 1024 * 1024,
      serviceLogBytes: integer(env, "SPRITES_LOCAL_SERVICE_LOG_KB", 4096, 16, 1024 * 1024) * 1024,
    },
  };
}
