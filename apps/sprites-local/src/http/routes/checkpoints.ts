import { Hono } from "hono";
import {
  checkpointToJSON,
  createCheckpoint,
  findCheckpoint,
  restoreCheckpoint,
} from "../../domain/checkpoints.js";
import type { AppContext, AppEnv } from "../context.js";
import { ndjsonResponse } from "../streaming.js";

function progressLine(type: "info" | "error" | "complete", message: string): Record<string, unknown> {
  const time = new Date().toISOString();
  return type === "error" ? { type, error: message, time } : { type, data: message, time };
}

/** Checkpoints: copies of the sprite's home, created and restored with NDJSON progress. */
export function checkpointRoutes(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/checkpoint", async (c) => {
    const sprite = c.var.sprite;
    let comment = "";
    const text = await c.req.text();
    if (text.trim().length > 0) {
      try {
        const body = JSON.parse(text) as { comment?: unknown };
        comment = typeof body.comment === "string" ? body.comment : "";
      } catch {
        comment = "";
      }
    }
    return ndjsonResponse(
      sprite,
      async (send) => {
        await createCheckpoint(sprite, ctx.store, comment, (type, message) =>
          send(progressLine(type, message)),
        );
      },
      (message) => progressLine("error", message),
    );
  });

  app.get("/checkpoints", (c) => c.json(c.var.sprite.record.checkpoints.map(checkpointToJSON)));

  app.get("/checkpoints/:id", (c) =>
    c.json(checkpointToJSON(findCheckpoint(c.var.sprite, c.req.param("id")))),
  );

  app.post("/checkpoints/:id/restore", (c) => {
    const sprite = c.var.sprite;
    const id = c.req.param("id");
    findCheckpoint(sprite, id);
    return ndjsonResponse(
      sprite,
      async (send) => {
        await restoreCheckpoint(sprite, ctx.store, id, (type, message) => send(progressLine(type, message)));
      },
      (message) => progressLine("error", message),
    );
  });

  return app;
}
