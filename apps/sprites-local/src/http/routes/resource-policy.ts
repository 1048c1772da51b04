import { Hono } from "hono";
import type { ManagedSprite } from "../../domain/managed-sprite.js";
import { parseResourcePolicyUpdate } from "../../domain/resources/policy.js";
import type { AppContext, AppEnv } from "../context.js";
import { readJsonObject } from "./sprites.js";

function describe(sprite: ManagedSprite, pending?: string[]): Record<string, unknown> {
  return {
    ...sprite.resources.policy(),
    enforcement: sprite.resources.enforcement,
    usage: sprite.resources.usage(),
    ...(pending !== undefined && { applied: pending.length === 0, pending }),
  };
}

/**
 * `GET|POST /v1/sprites/{name}/policy/resources`: `{ memory_mb, cpu_shares, cpus, pids, nofile, disk_mb }`.
 * POST changes the fields it names (null returns one to the host default; for `cpus` null means no cap),
 * persists them, and applies them to the running sprite at once where the kernel allows; what it cannot
 * apply now (memory below what the sprite already uses) applies when the sprite's next process starts.
 * Like the record itself, the policy does not wake the sprite.
 */
export function resourcePolicyRoutes(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", (c) => c.json(describe(ctx.registry.get(c.req.param("name") ?? ""))));

  app.post("/", async (c) => {
    const sprite = ctx.registry.get(c.req.param("name") ?? "");
    const body = await readJsonObject(c);
    sprite.record.resources = parseResourcePolicyUpdate(body, sprite.record.resources ?? {});
    await sprite.save();
    const pending = await sprite.resources.applyNow();
    return c.json(describe(sprite, pending));
  });

  return app;
}
