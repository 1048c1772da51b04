import type { Logger } from "@vps-claude/logger";
import { ApiError } from "./errors.js";
import { ManagedSprite } from "./managed-sprite.js";
import { DEFAULT_NETWORK_POLICY } from "./network/policy.js";
import type { NetworkHost } from "./network/sprite-network.js";
import type { ResourceHost } from "./resources/host.js";
import type { Sandbox } from "./sandbox.js";
import type { SpriteRecord, SpriteStore, UrlAuth } from "./store.js";

/** Sprite names become host names (`<name>.localhost`, `<name>-<org>.sprites.app`): DNS label rules. */
const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface CreateSpriteInput {
  name: string;
  urlAuth: UrlAuth;
  labels: string[];
  config: SpriteRecord["config"];
  environment: Record<string, string>;
}

export interface RegistryOptions {
  store: SpriteStore;
  sandbox: Sandbox;
  logger: Logger;
  idleMs: number;
  coldAfterMs: number;
  network: NetworkHost;
  resources: ResourceHost;
}

export class SpriteRegistry {
  private readonly sprites = new Map<string, ManagedSprite>();
  private readonly options: RegistryOptions;
  /** Names being created or deleted right now, so concurrent requests see a consistent answer. */
  private readonly busy = new Set<string>();

  constructor(options: RegistryOptions) {
    this.options = options;
  }

  async load(): Promise<void> {
    for (const record of await this.options.store.loadAll()) {
      const sprite = this.manage(record);
      await this.attachNetwork(sprite);
      this.sprites.set(record.name, sprite);
    }
  }

  get(name: string): ManagedSprite {
    const sprite = this.sprites.get(name);
    if (!sprite) {
      throw new ApiError("not_found", `sprite '${name}' not found`);
    }
    return sprite;
  }

  find(name: string): ManagedSprite | undefined {
    return this.sprites.get(name);
  }

  list(prefix: string): ManagedSprite[] {
    return [...this.sprites.values()]
      .filter((sprite) => sprite.name.startsWith(prefix))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async create(input: CreateSpriteInput): Promise<ManagedSprite> {
    if (!NAME_PATTERN.test(input.name)) {
      throw new ApiError(
        "invalid_request",
        `sprite name '${input.name}' is invalid: use 1–63 lowercase letters, digits and hyphens, starting and ending with a letter or digit`,
      );
    }
    if (this.sprites.has(input.name) || this.busy.has(input.name)) {
      throw new ApiError("already_exists", `sprite '${input.name}' already exists`);
    }
    this.busy.add(input.name);
    try {
      const usedUids = new Set<number>();
      for (const sprite of this.sprites.values()) {
        if (sprite.record.uid !== null) {
          usedUids.add(sprite.record.uid);
        }
      }
      const record = this.options.store.newRecord(
        input.name,
        {
          urlAuth: input.urlAuth,
          labels: input.labels,
          config: input.config,
          environment: input.environment,
        },
        this.options.sandbox.mode === "bwrap-uid",
        usedUids,
      );
      await this.options.store.create(record);
      const sprite = this.manage(record);
      try {
        await this.attachNetwork(sprite);
      } catch (error) {
        await this.options.store.remove(record.name);
        throw error;
      }
      this.sprites.set(record.name, sprite);
      this.options.logger.info({ sprite: record.name, uid: record.uid }, "sprite created");
      return sprite;
    } finally {
      this.busy.delete(input.name);
    }
  }

  async delete(name: string): Promise<void> {
    const sprite = this.get(name);
    this.sprites.delete(name);
    this.busy.add(name);
    try {
      await sprite.shutdown();
      await this.options.network.detach(name);
      await this.options.store.remove(name);
      this.options.logger.info({ sprite: name }, "sprite deleted");
    } finally {
      this.busy.delete(name);
    }
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.sprites.values()].map((sprite) => sprite.shutdown()));
  }

  /** Every process of a sprite runs in its namespace, so it exists before the sprite can run anything. */
  private async attachNetwork(sprite: ManagedSprite): Promise<void> {
    sprite.network = await this.options.network.attach(
      sprite.name,
      () => sprite.record.networkPolicy ?? DEFAULT_NETWORK_POLICY,
    );
    sprite.networkEnv = this.options.network.proxyEnv();
  }

  private manage(record: SpriteRecord): ManagedSprite {
    return new ManagedSprite(record, {
      store: this.options.store,
      sandbox: this.options.sandbox,
      logger: this.options.logger,
      idleMs: this.options.idleMs,
      coldAfterMs: this.options.coldAfterMs,
      resources: this.options.resources,
    });
  }
}
