import "./install-websocket.js";

export { BodyTooLargeError, discardBody, readBoundedBody } from "./bounded-body.js";
export {
  type CheckpointInfo,
  type CreateSpriteOptions,
  createSpritesClient,
  type DirEntry,
  type ExecOptions,
  type ExecResult,
  type NetworkPolicyRule,
  type PutServiceResult,
  type ServiceInfo,
  type ServiceSpec,
  type SpriteSummary,
  type SpritesClient,
  type SpritesClientOptions,
  type TtyOptions,
  type TtySession,
  type UrlAuth,
  type WaitForUrlOptions,
} from "./client.js";
export { SpritesError, type SpritesErrorCode, toSpritesError } from "./errors.js";
export type { RetryOptions } from "./retry.js";
