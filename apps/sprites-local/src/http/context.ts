import type { Logger } from "@vps-claude/logger";
import type { ManagedSprite } from "../domain/managed-sprite.js";
import type { ConfinementReport } from "../domain/network/confinement.js";
import type { SpriteRegistry } from "../domain/registry.js";
import type { SpriteStore } from "../domain/store.js";

export interface AppContext {
  token: string;
  organization: string;
  registry: SpriteRegistry;
  store: SpriteStore;
  logger: Logger;
  /** Which confinement is active, for `GET /v1/local/confinement`. */
  confinement: ConfinementReport;
  /** The sprite URL; only known once the server listens (port 0 picks a free port). */
  spriteUrl(name: string): string;
}

export interface AppEnv {
  Variables: { sprite: ManagedSprite };
}
