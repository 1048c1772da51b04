export { readSpritesLocalEnv, type SpritesLocalEnv } from "./env.js";
export type { SandboxMode } from "./sandbox.js";
export {
  createSpritesLocal,
  DEFAULT_COLD_AFTER_MS,
  DEFAULT_IDLE_MS,
  DEFAULT_PORT,
  type SpritesLocal,
  type SpritesLocalOptions,
} from "./server.js";
