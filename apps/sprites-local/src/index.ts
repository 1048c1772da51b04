export { readSpritesLocalEnv, type SpritesLocalEnv } from "./env.js";
export type { ConfinementReport } from "./network/confinement.js";
export type { NetworkPolicy, NetworkRule } from "./network/policy.js";
export type { NetworkMode } from "./network/sprite-network.js";
export type { SandboxMode } from "./sandbox.js";
export {
  createSpritesLocal,
  DEFAULT_COLD_AFTER_MS,
  DEFAULT_IDLE_MS,
  DEFAULT_PORT,
  DEFAULT_PROXY_PORT,
  type SpritesLocal,
  type SpritesLocalOptions,
} from "./server.js";
