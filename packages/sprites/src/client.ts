import "./install-websocket.js";
import { SpritesClient as SdkClient } from "@fly/sprites";
import { createLogger, type Logger } from "@vps-claude/logger";
import { type CheckpointOperations, checkpointOperations } from "./client/checkpoints.js";
import type { ClientContext } from "./client/context.js";
import { type ExecOperations, execOperations } from "./client/exec.js";
import { type FilesystemOperations, filesystemOperations } from "./client/filesystem.js";
import { type PolicyOperations, policyOperations } from "./client/policies.js";
import { type ServiceOperations, serviceOperations } from "./client/services.js";
import { SpriteUrlCache, type SpriteUrlOperations, spriteUrlOperations } from "./client/sprite-url.js";
import { type SpriteOperations, spriteOperations } from "./client/sprites.js";
import { type TtyOperations, ttyOperations } from "./client/tty.js";
import { DEFAULT_RETRY, type RetryOptions, withRetry } from "./retry.js";

export type { CheckpointInfo } from "./client/checkpoints.js";
export type { ExecOptions, ExecResult } from "./client/exec.js";
export type { DirEntry } from "./client/filesystem.js";
export type { NetworkPolicyRule } from "./client/policies.js";
export type { PutServiceResult, ServiceInfo, ServiceSpec } from "./client/services.js";
export type { UrlAuth, WaitForUrlOptions } from "./client/sprite-url.js";
export type { CreateSpriteOptions, SpriteSummary } from "./client/sprites.js";
export type { TtyOptions, TtySession } from "./client/tty.js";

export interface SpritesClientOptions {
  token: string;
  /** Sprites API base URL; sprites-local is `http://127.0.0.1:33010`. Default https://api.sprites.dev. */
  baseUrl?: string;
  logger?: Logger;
  retry?: Partial<RetryOptions>;
  /** How often a running command prints its keepalive marker (must stay well under the SDK's 45 s). */
  keepaliveIntervalMs?: number;
}

/** The Sprites API by area: sprites, exec, terminals, filesystem, services, the sprite URL, checkpoints, policies. */
export interface SpritesClient
  extends SpriteOperations,
    ExecOperations,
    TtyOperations,
    FilesystemOperations,
    ServiceOperations,
    SpriteUrlOperations,
    CheckpointOperations,
    PolicyOperations {}

const DEFAULT_KEEPALIVE_MS = 20_000;

export function createSpritesClient(options: SpritesClientOptions): SpritesClient {
  const baseUrl = (options.baseUrl ?? "https://api.sprites.dev").replace(/\/+$/, "");
  const logger = options.logger ?? createLogger({ name: "sprites" });
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const ctx: ClientContext = {
    sdk: new SdkClient(options.token, { baseURL: baseUrl }),
    baseUrl,
    token: options.token,
    logger,
    keepaliveMs: options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_MS,
    retried: (operation, run) => withRetry(operation, run, retry, logger),
  };
  const urls = new SpriteUrlCache();
  const sprites = spriteOperations(ctx, urls);
  return {
    ...sprites,
    ...execOperations(ctx),
    ...ttyOperations(ctx),
    ...filesystemOperations(ctx),
    ...serviceOperations(ctx),
    ...spriteUrlOperations(urls, sprites.getSprite),
    ...checkpointOperations(ctx),
    ...policyOperations(ctx),
  };
}
