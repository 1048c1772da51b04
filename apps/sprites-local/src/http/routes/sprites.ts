import type { Context } from "hono";
import { Hono } from "hono";
import { ApiError } from "../../domain/errors.js";
import type { ManagedSprite } from "../../domain/managed-sprite.js";
import type { SpriteRecord, UrlAuth } from "../../domain/store.js";
import type { AppContext, AppEnv } from "../context.js";

const DEFAULT_CONFIG: SpriteRecord["config"] = { ramMb: 8192, cpus: 8, region: "local", storageGb: 100 };
const MAX_PAGE = 50;

export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ApiError("invalid_request", "the request body must be a JSON object");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError("invalid_request", "the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function parseUrlAuth(value: unknown, fallback: UrlAuth): UrlAuth {
  if (value === undefined || value === null) {
    return fallback;
  }
  const auth = (value as { auth?: unknown }).auth;
  if (auth === undefined) {
    return fallback;
  }
  if (auth !== "sprite" && auth !== "public") {
    throw new ApiError(
      "invalid_request",
      `url_settings.auth must be "sprite" or "public", got ${JSON.stringify(auth)}`,
    );
  }
  return auth;
}

function parseLabels(value: unknown): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value) || value.some((label) => typeof label !== "string")) {
    throw new ApiError("invalid_request", "labels must be an array of strings");
  }
  return value as string[];
}

function parseEnvironment(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) {
    return {};
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ApiError("invalid_request", `${field} must be an object of string values`);
  }
  const env: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") {
      throw new ApiError("invalid_request", `${field}.${key} must be a string`);
    }
    env[key] = item;
  }
  return env;
}

function parseConfig(value: unknown): SpriteRecord["config"] {
  if (value === undefined || value === null) {
    return { ...DEFAULT_CONFIG };
  }
  const raw = value as Record<string, unknown>;
  const number = (v: unknown, fallback: number) => (typeof v === "number" && v > 0 ? v : fallback);
  return {
    ramMb: number(raw.ram_mb, DEFAULT_CONFIG.ramMb),
    cpus: number(raw.cpus, DEFAULT_CONFIG.cpus),
    region: typeof raw.region === "string" ? raw.region : DEFAULT_CONFIG.region,
    storageGb: number(raw.storage_gb, DEFAULT_CONFIG.storageGb),
  };
}

export function spriteToJSON(sprite: ManagedSprite, ctx: AppContext): Record<string, unknown> {
  const record = sprite.record;
  return {
    id: record.id,
    name: record.name,
    organization: ctx.organization,
    url: ctx.spriteUrl(record.name),
    status: sprite.status,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    url_settings: { auth: record.urlAuth },
    labels: record.labels,
    config: {
      ram_mb: record.config.ramMb,
      cpus: record.config.cpus,
      region: record.config.region,
      storage_gb: record.config.storageGb,
    },
    environment: record.environment,
  };
}

function encodeToken(name: string): string {
  return Buffer.from(name, "utf8").toString("base64url");
}

function decodeToken(token: string): string {
  return Buffer.from(token, "base64url").toString("utf8");
}

/** Sprite records: create, list, get, update, delete. Reading a record does not wake the sprite. */
export function spriteRoutes(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/", async (c) => {
    const body = await readJsonObject(c);
    if (typeof body.name !== "string") {
      throw new ApiError("invalid_request", "name is required");
    }
    const sprite = await ctx.registry.create({
      name: body.name,
      urlAuth: parseUrlAuth(body.url_settings, "sprite"),
      labels: parseLabels(body.labels),
      config: parseConfig(body.config),
      environment: parseEnvironment(body.environment, "environment"),
    });
    return c.json(spriteToJSON(sprite, ctx), 201);
  });

  app.get("/", (c) => {
    const prefix = c.req.query("prefix") ?? "";
    const requested = Number(c.req.query("max_results") ?? MAX_PAGE);
    const limit = Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_PAGE) : MAX_PAGE;
    const token = c.req.query("continuation_token");
    const after = token ? decodeToken(token) : null;
    const all = ctx.registry.list(prefix);
    const remaining = after === null ? all : all.filter((sprite) => sprite.name > after);
    const page = remaining.slice(0, limit);
    const hasMore = remaining.length > page.length;
    const last = page.at(-1);
    const counts = { running: 0, warm: 0, cold: 0 };
    for (const sprite of all) {
      counts[sprite.status] += 1;
    }
    return c.json({
      sprites: page.map((sprite) => spriteToJSON(sprite, ctx)),
      has_more: hasMore,
      next_continuation_token: hasMore && last ? encodeToken(last.name) : null,
      name: ctx.organization,
      ...counts,
    });
  });

  app.get("/:name", (c) => c.json(spriteToJSON(ctx.registry.get(c.req.param("name")), ctx)));

  app.put("/:name", async (c) => {
    const sprite = ctx.registry.get(c.req.param("name"));
    const body = await readJsonObject(c);
    if (body.url_settings === undefined && body.labels === undefined) {
      throw new ApiError("invalid_request", "nothing to update: send url_settings and/or labels");
    }
    sprite.record.urlAuth = parseUrlAuth(body.url_settings, sprite.record.urlAuth);
    if (body.labels !== undefined) {
      sprite.record.labels = parseLabels(body.labels);
    }
    await sprite.save();
    return c.json(spriteToJSON(sprite, ctx));
  });

  app.delete("/:name", async (c) => {
    await ctx.registry.delete(c.req.param("name"));
    return c.body(null, 204);
  });

  return app;
}
