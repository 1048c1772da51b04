import path from "node:path";
import { DEFAULT_COLD_AFTER_MS, DEFAULT_IDLE_MS, DEFAULT_PORT } from "./server.js";

export interface SpritesLocalEnv {
  port: number;
  token: string;
  dataDir: string;
  idleMs: number;
  coldAfterMs: number;
  readOnlyBinds: string[];
  sandbox: "auto" | "none";
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
 * SPRITES_LOCAL_SANDBOX ("auto" or "none").
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
  const binds = (env.SPRITES_LOCAL_RO_BINDS ?? "").split(":").filter((p) => p.length > 0);
  for (const bind of binds) {
    if (!path.isAbsolute(bind)) {
      throw new Error(`SPRITES_LOCAL_RO_BINDS entry '${bind}' must be an absolute path`);
    }
  }
  return {
    token,
    port: integer(env, "SPRITES_LOCAL_PORT", DEFAULT_PORT, 0, 65535),
    dataDir: path.resolve(cwd, env.SPRITES_LOCAL_DATA || ".data/sprites"),
    idleMs: integer(env, "SPRITES_LOCAL_IDLE_MS", DEFAULT_IDLE_MS, 10, 7 * 24 * 3_600_000),
    coldAfterMs: integer(env, "SPRITES_LOCAL_COLD_MS", DEFAULT_COLD_AFTER_MS, 10, 30 * 24 * 3_600_000),
    readOnlyBinds: binds,
    sandbox,
  };
}
