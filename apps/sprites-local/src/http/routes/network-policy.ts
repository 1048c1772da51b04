import { Hono } from "hono";
import { ApiError } from "../../domain/errors.js";
import {
  DEFAULT_NETWORK_POLICY,
  PolicyValidationError,
  parseNetworkPolicy,
} from "../../domain/network/policy.js";
import type { AppContext, AppEnv } from "../context.js";

/** `GET|POST /v1/sprites/{name}/policy/network`: egress rules by domain, applied by the proxy at once. */
export function networkPolicyRoutes(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", (c) => {
    const sprite = ctx.registry.get(c.req.param("name") ?? "");
    return c.json(sprite.record.networkPolicy ?? DEFAULT_NETWORK_POLICY);
  });

  app.post("/", async (c) => {
    const sprite = ctx.registry.get(c.req.param("name") ?? "");
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ApiError(
        "invalid_request",
        'the body must be JSON like {"rules": [{"action": "deny", "domain": "*"}]}',
      );
    }
    try {
      sprite.record.networkPolicy = parseNetworkPolicy(body);
    } catch (error) {
      if (error instanceof PolicyValidationError) {
        throw new ApiError("invalid_request", `network policy: ${error.message}`);
      }
      throw error;
    }
    await sprite.save();
    sprite.network?.policyChanged();
    return c.json(sprite.record.networkPolicy);
  });

  return app;
}
