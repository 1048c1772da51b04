import "./install-websocket.js";

export {
  type CheckpointInfo,
  type CreateSpriteOptions,
  createSpritesClient,
  type DirEntry,
  type ExecOptions,
  type ExecResult,
  type PutServiceResult,
  type ServiceInfo,
  type ServiceSpec,
  type SpriteSummary,
  type SpritesClient,
  type SpritesClientOptions,
  type UrlAuth,
  type WaitForUrlOptions,
} from "./client.js";
export { SpritesError, type SpritesErrorCode, toSpritesError } from "./errors.js";
export type { RetryOptions } from "./retry.js";
