import type { Sprite, SpriteInfo } from "@fly/sprites";
import { SpritesError } from "../errors.js";
import type { ClientContext } from "./context.js";
import type { SpriteUrlCache, UrlAuth } from "./sprite-url.js";

export interface SpriteSummary {
  name: string;
  id: string;
  /** The sprite URL (routed to the service that declares `httpPort`, else port 8080). */
  url: string | null;
  status: string;
  urlAuth: UrlAuth;
  labels: string[];
  createdAt: Date | null;
}

export interface CreateSpriteOptions {
  /**
   * "sprite" (default): URL requests need the API token; "public": anyone may call the URL.
   * Given explicitly, an existing sprite with the other setting is switched to it. `fetchSprite`
   * only reaches public URLs: the account token never goes to a sprite.
   */
  urlAuth?: UrlAuth;
  labels?: string[];
  environment?: Record<string, string>;
}

export interface SpriteOperations {
  /** Creates the sprite, or returns it when it already exists (safe to repeat). */
  createOrGetSprite(name: string, options?: CreateSpriteOptions): Promise<SpriteSummary>;
  /** The sprite, or null when it does not exist. */
  getSprite(name: string): Promise<SpriteSummary | null>;
  listSprites(prefix?: string): Promise<SpriteSummary[]>;
  /** Deletes the sprite; a sprite that is already gone is fine. */
  deleteSprite(name: string): Promise<void>;
}

function summarize(info: SpriteInfo | Sprite): SpriteSummary {
  return {
    name: info.name,
    id: info.id ?? "",
    url: info.url ?? null,
    status: info.status ?? "unknown",
    urlAuth: info.urlSettings?.auth === "public" ? "public" : "sprite",
    labels: info.labels ?? [],
    createdAt: info.createdAt ?? null,
  };
}

/** Sprite CRUD; every sprite seen has its URL remembered in `urls`. */
export function spriteOperations(ctx: ClientContext, urls: SpriteUrlCache): SpriteOperations {
  const { sdk, logger, retried } = ctx;

  async function getSprite(name: string): Promise<SpriteSummary | null> {
    try {
      return urls.remember(summarize(await retried(`get sprite '${name}'`, () => sdk.getSprite(name))));
    } catch (error) {
      if (error instanceof SpritesError && error.code === "not_found") {
        return null;
      }
      throw error;
    }
  }

  return {
    getSprite,

    async createOrGetSprite(name, createOptions = {}) {
      const existing = await getSprite(name);
      if (existing) {
        const wanted = createOptions.urlAuth;
        if (wanted === undefined || existing.urlAuth === wanted) {
          return existing;
        }
        const updated = await retried(`set URL auth of sprite '${name}' to ${wanted}`, () =>
          sdk.updateSprite(name, { urlSettings: { auth: wanted } }),
        );
        logger.info({ sprite: name, urlAuth: wanted }, "sprite URL auth changed");
        return urls.remember(summarize(updated));
      }
      try {
        const created = await retried(`create sprite '${name}'`, () =>
          sdk.createSprite(name, {
            urlSettings: { auth: createOptions.urlAuth ?? "sprite" },
            ...(createOptions.labels && { labels: createOptions.labels }),
            ...(createOptions.environment && { environment: createOptions.environment }),
          }),
        );
        logger.info({ sprite: name }, "sprite created");
        return urls.remember(summarize(created));
      } catch (error) {
        // Lost a race with another creator (or a retried create that had gone through): use theirs.
        if (error instanceof SpritesError && error.code === "conflict") {
          const raced = await getSprite(name);
          if (raced) {
            return raced;
          }
        }
        throw error;
      }
    },

    async listSprites(prefix) {
      const sprites = await retried("list sprites", () => sdk.listAllSprites(prefix));
      return sprites.map((sprite) => urls.remember(summarize(sprite)));
    },

    async deleteSprite(name) {
      try {
        await retried(`delete sprite '${name}'`, () => sdk.deleteSprite(name));
        logger.info({ sprite: name }, "sprite deleted");
      } catch (error) {
        if (!(error instanceof SpritesError && error.code === "not_found")) {
          throw error;
        }
      }
      urls.forget(name);
    },
  };
}
