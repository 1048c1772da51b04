export type { ConfinementReport } from "./domain/network/confinement.js";
export type { NetworkPolicy, NetworkRule } from "./domain/network/policy.js";
export type { NetworkMode } from "./domain/network/sprite-network.js";
export type { SandboxMode } from "./domain/sandbox.js";
export { readSpritesLocalEnv, type SpritesLocalEnv } from "./env.js";
export {
  createSpritesLocal,
  DEFAULT_COLD_AFTER_MS,
  DEFAULT_IDLE_MS,
  DEFAULT_PORT,
  DEFAULT_PROXY_PORT,
  type SpritesLocal,
  type SpritesLocalOptions,
} from "./http/server.js";
