import { Hono } from "hono";
import { ApiError } from "../../domain/errors.js";
import { normalizeSignal } from "../../domain/exec.js";
import type { ManagedSprite } from "../../domain/managed-sprite.js";
import type { ServiceEvent, ServiceRuntime } from "../../domain/services.js";
import type { ServiceDefinition } from "../../domain/store.js";
import type { AppEnv } from "../context.js";
import { ndjsonResponse, parseDuration, type SendLine, sleep } from "../streaming.js";
import { readJsonObject } from "./sprites.js";

/** The API's default monitoring window after a start. */
const DEFAULT_MONITOR_MS = 5_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function stringArray(value: unknown, field: string): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new ApiError("invalid_request", `${field} must be an array of strings`);
  }
  return value as string[];
}

function parseDefinition(body: Record<string, unknown>): ServiceDefinition {
  if (typeof body.cmd !== "string" || body.cmd.length === 0) {
    throw new ApiError("invalid_request", "cmd is required (the program the service runs)");
  }
  const env: Record<string, string> = {};
  if (body.env !== undefined && body.env !== null) {
    if (typeof body.env !== "object" || Array.isArray(body.env)) {
      throw new ApiError("invalid_request", "env must be an object of string values");
    }
    for (const [key, value] of Object.entries(body.env)) {
      if (typeof value !== "string") {
        throw new ApiError("invalid_request", `env.${key} must be a string`);
      }
      env[key] = value;
    }
  }
  const port = body.http_port;
  if (
    port !== undefined &&
    port !== null &&
    (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
  ) {
    throw new ApiError("invalid_request", "http_port must be a port number between 1 and 65535");
  }
  if (body.dir !== undefined && body.dir !== null && typeof body.dir !== "string") {
    throw new ApiError("invalid_request", "dir must be a string");
  }
  return {
    cmd: body.cmd,
    args: stringArray(body.args, "args"),
    env,
    dir: typeof body.dir === "string" && body.dir.length > 0 ? body.dir : null,
    needs: stringArray(body.needs, "needs"),
    httpPort: typeof port === "number" ? port : null,
    wanted: true,
  };
}

function serviceName(raw: string): string {
  if (!SERVICE_NAME.test(raw)) {
    throw new ApiError(
      "invalid_request",
      `service name '${raw}' is invalid: use letters, digits, '.', '_' and '-'`,
    );
  }
  return raw;
}

function errorLine(message: string): Record<string, unknown> {
  return { type: "error", data: message, timestamp: Date.now() };
}

/** Streams a service's events for `durationMs`, then a `complete` line. */
async function monitor(
  service: ServiceRuntime,
  send: SendLine,
  signal: AbortSignal,
  durationMs: number,
  action: () => Promise<void> | void,
): Promise<void> {
  const unsubscribe = service.subscribe((event: ServiceEvent) => send({ ...event }));
  try {
    await action();
    await sleep(durationMs, signal);
  } finally {
    unsubscribe();
  }
  send({ type: "complete", timestamp: Date.now(), log_files: service.logFiles });
}

function startWithMonitor(sprite: ManagedSprite, name: string, durationMs: number): Response {
  const service = sprite.requireService(name);
  return ndjsonResponse(
    sprite,
    (send, signal) =>
      monitor(service, send, signal, durationMs, async () => {
        await sprite.setServiceWanted(name, true);
        sprite.startService(name);
      }),
    errorLine,
  );
}

/** Services: supervised processes that restart after crashes and when the sprite wakes from cold. */
export function serviceRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", (c) => c.json([...c.var.sprite.services.values()].map((service) => service.toJSON())));

  app.post("/signal", async (c) => {
    const body = await readJsonObject(c);
    const service = c.var.sprite.requireService(String(body.name ?? ""));
    const signal = normalizeSignal(body.signal);
    if (!signal) {
      throw new ApiError("invalid_request", `unknown signal ${JSON.stringify(body.signal)}`);
    }
    if (!service.isRunning) {
      throw new ApiError("conflict", `service '${service.name}' is not running`);
    }
    service.signal(signal);
    return c.body(null, 204);
  });

  app.get("/:service", (c) => c.json(c.var.sprite.requireService(c.req.param("service")).toJSON()));

  app.put("/:service", async (c) => {
    const sprite = c.var.sprite;
    const name = serviceName(c.req.param("service"));
    const definition = parseDefinition(await readJsonObject(c));
    const durationMs = parseDuration(c.req.query("duration"), DEFAULT_MONITOR_MS);
    await sprite.putService(name, definition);
    return startWithMonitor(sprite, name, durationMs);
  });

  app.delete("/:service", async (c) => {
    await c.var.sprite.deleteService(c.req.param("service"));
    return c.body(null, 204);
  });

  app.post("/:service/start", (c) => {
    const durationMs = parseDuration(c.req.query("duration"), DEFAULT_MONITOR_MS);
    return startWithMonitor(c.var.sprite, c.req.param("service"), durationMs);
  });

  app.post("/:service/stop", (c) => {
    const sprite = c.var.sprite;
    const name = c.req.param("service");
    const service = sprite.requireService(name);
    if (!service.isRunning && service.status !== "starting") {
      throw new ApiError("conflict", `service '${name}' is not running`);
    }
    const timeoutMs = parseDuration(c.req.query("timeout"), DEFAULT_STOP_TIMEOUT_MS);
    return ndjsonResponse(
      sprite,
      (send, signal) =>
        monitor(service, send, signal, 0, async () => {
          await sprite.setServiceWanted(name, false);
          await sprite.stopService(name, timeoutMs);
        }),
      errorLine,
    );
  });

  app.post("/:service/restart", (c) => {
    const sprite = c.var.sprite;
    const name = c.req.param("service");
    const service = sprite.requireService(name);
    const durationMs = parseDuration(c.req.query("duration"), DEFAULT_MONITOR_MS);
    return ndjsonResponse(
      sprite,
      (send, signal) =>
        monitor(service, send, signal, durationMs, async () => {
          await sprite.stopService(name);
          await sprite.setServiceWanted(name, true);
          sprite.startService(name);
        }),
      errorLine,
    );
  });

  app.get("/:service/logs", (c) => {
    const sprite = c.var.sprite;
    const service = sprite.requireService(c.req.param("service"));
    const lines = Number(c.req.query("lines") ?? 100);
    const followMs = parseDuration(c.req.query("duration"), 0);
    return ndjsonResponse(
      sprite,
      async (send, signal) => {
        for (const event of service.recent(Number.isInteger(lines) && lines > 0 ? lines : 100)) {
          send({ ...event });
        }
        await monitor(service, send, signal, followMs, () => undefined);
      },
      errorLine,
    );
  });

  return app;
}
