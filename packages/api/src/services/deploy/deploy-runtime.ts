import type { SpritesClient } from "@vps-claude/sprites";

/** What the deploy steps need beyond the database: the sandbox provider and how box-agent runs there. */
export interface DeployRuntime {
  sprites: SpritesClient;
  /** The built box-agent bundle (a single .mjs file), read on the platform host and copied into each sprite. */
  readBoxAgentBundle(): Promise<Buffer>;
  /** The node executable inside a sprite. */
  nodeCommand: string;
  /** NODE_PATH inside a sprite, where box-agent finds better-sqlite3 and the Agent SDK (sprites-local: the host's node_modules, read-only). */
  nodePath?: string;
  /** box-agent's port; "auto" picks a free one inside the sprite (sprites-local shares the host's network). */
  boxAgentPort: number | "auto";
  /** Where box-agent listens inside the sprite: 127.0.0.1 on sprites-local (shared host network), 0.0.0.0 on Fly. */
  boxAgentHost: string;
  /** The server URL as seen from inside a sprite. */
  serverUrlForBoxes: string;
  /** Sprite names are `${prefix}${box id suffix}`. */
  spriteNamePrefix: string;
  healthTimeoutMs: number;
  /** Extra environment for box-agent (tests shorten Claude's retries with it). */
  boxAgentEnv?: Record<string, string>;
}

export function spriteNameFor(prefix: string, boxId: string): string {
  return `${prefix}${boxId.replace(/^box_/, "")}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
}
