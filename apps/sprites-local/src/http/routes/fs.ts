import type { Context } from "hono";
import { Hono } from "hono";
import { FsError } from "../../domain/errors.js";
import {
  MAX_FS_PAYLOAD,
  parseMode,
  readFileStream,
  resolveSpritePath,
  runFsOperation,
} from "../../domain/fs-api.js";
import type { ManagedSprite } from "../../domain/managed-sprite.js";
import { formatBytes } from "../../domain/resources/policy.js";
import type { AppEnv } from "../context.js";

function truthy(value: unknown): boolean {
  return value === true || value === "true" || value === "1";
}

async function readBody(c: Context): Promise<Record<string, unknown>> {
  try {
    const body: unknown = await c.req.json();
    if (typeof body === "object" && body !== null && !Array.isArray(body)) {
      return body as Record<string, unknown>;
    }
  } catch {
    // Reported below.
  }
  throw new FsError("EINVAL", "the request body must be a JSON object", "");
}

async function runJson(
  sprite: ManagedSprite,
  request: Record<string, unknown>,
  errorPath: string,
  data?: Buffer,
): Promise<Record<string, unknown>> {
  return (await runFsOperation(sprite, request, errorPath, data)).result;
}

async function readUpload(c: Context, errorPath: string): Promise<Buffer> {
  const tooLarge = (size: number) =>
    new FsError(
      "EFBIG",
      `file is ${formatBytes(size)}; uploads through the filesystem API are limited to ${formatBytes(MAX_FS_PAYLOAD)}`,
      errorPath,
    );
  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > MAX_FS_PAYLOAD) {
    throw tooLarge(declared);
  }
  const data = Buffer.from(await c.req.arrayBuffer());
  if (data.length > MAX_FS_PAYLOAD) {
    throw tooLarge(data.length);
  }
  return data;
}

/** The filesystem API. Paths resolve as the sprite sees them; see fs-api.ts for the confinement rules. */
export function fsRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/read", async (c) => {
    const sprite = c.var.sprite;
    const raw = c.req.query("path");
    const { helperPath } = resolveSpritePath(sprite, raw, c.req.query("workingDir"), true);
    const { size, body } = await readFileStream(sprite, helperPath, sprite.resources.maxReadBytes, raw ?? "");
    return c.body(body, 200, {
      "content-type": "application/octet-stream",
      "content-length": String(size),
    });
  });

  app.put("/write", async (c) => {
    const sprite = c.var.sprite;
    const raw = c.req.query("path");
    const { view, helperPath } = resolveSpritePath(sprite, raw, c.req.query("workingDir"), true);
    const mode = parseMode(c.req.query("mode"), raw ?? "");
    const mkdirParents = truthy(c.req.query("mkdirParents")) || truthy(c.req.query("mkdir"));
    const data = await readUpload(c, raw ?? "");
    await sprite.resources.assertCanWrite(data.length, raw ?? "");
    const result = await runJson(
      sprite,
      { op: "write", path: helperPath, mkdirParents, mode },
      raw ?? "",
      data,
    );
    sprite.resources.noteWrite();
    return c.json({ path: view, size: result.size, mode: result.mode });
  });

  app.get("/list", async (c) => {
    const sprite = c.var.sprite;
    const raw = c.req.query("path");
    const { view, helperPath } = resolveSpritePath(sprite, raw, c.req.query("workingDir"), true);
    const result = await runJson(
      sprite,
      { op: "list", path: helperPath, recursive: truthy(c.req.query("recursive")) },
      raw ?? "",
    );
    const entries = Array.isArray(result.entries) ? (result.entries as Array<Record<string, unknown>>) : [];
    const mapped = entries.map((entry) => ({
      ...entry,
      path:
        typeof entry.path === "string" ? sprite.sandbox.hostToView(sprite.target, entry.path) : entry.path,
    }));
    return c.json({ path: view, entries: mapped, count: mapped.length });
  });

  app.delete("/delete", async (c) => {
    const sprite = c.var.sprite;
    let raw = c.req.query("path");
    let recursive = truthy(c.req.query("recursive"));
    let workingDir = c.req.query("workingDir");
    if (raw === undefined) {
      const body = await readBody(c);
      raw = typeof body.path === "string" ? body.path : undefined;
      recursive = truthy(body.recursive);
      workingDir = typeof body.workingDir === "string" ? body.workingDir : undefined;
    }
    const { view, helperPath } = resolveSpritePath(sprite, raw, workingDir, false);
    const result = await runJson(sprite, { op: "delete", path: helperPath, recursive }, raw ?? "");
    return c.json({ deleted: view, count: result.count });
  });

  app.post("/rename", async (c) => {
    const sprite = c.var.sprite;
    const body = await readBody(c);
    const source = resolveSpritePath(sprite, body.source, body.workingDir, false);
    const dest = resolveSpritePath(sprite, body.dest, body.workingDir, false);
    await runJson(
      sprite,
      { op: "rename", source: source.helperPath, dest: dest.helperPath },
      String(body.source),
    );
    return c.json({ source: source.view, dest: dest.view });
  });

  app.post("/copy", async (c) => {
    const sprite = c.var.sprite;
    const body = await readBody(c);
    const source = resolveSpritePath(sprite, body.source, body.workingDir, false);
    const dest = resolveSpritePath(sprite, body.dest, body.workingDir, false);
    await sprite.resources.assertCanWrite(0, String(body.dest));
    await runJson(
      sprite,
      {
        op: "copy",
        source: source.helperPath,
        dest: dest.helperPath,
        recursive: truthy(body.recursive),
        preserveAttrs: truthy(body.preserveAttrs),
      },
      String(body.source),
    );
    return c.json({ source: source.view, dest: dest.view });
  });

  app.post("/chmod", async (c) => {
    const sprite = c.var.sprite;
    const body = await readBody(c);
    const { view, helperPath } = resolveSpritePath(sprite, body.path, body.workingDir, true);
    const mode = parseMode(body.mode, String(body.path));
    if (mode === undefined) {
      throw new FsError("EINVAL", "mode is required", String(body.path));
    }
    const result = await runJson(
      sprite,
      { op: "chmod", path: helperPath, mode, recursive: truthy(body.recursive) },
      String(body.path),
    );
    return c.json({ path: view, mode: result.mode });
  });

  app.post("/chown", async (c) => {
    const sprite = c.var.sprite;
    const body = await readBody(c);
    const { view, helperPath } = resolveSpritePath(sprite, body.path, body.workingDir, false);
    const id = (value: unknown) => (typeof value === "number" && Number.isInteger(value) ? value : undefined);
    await runJson(
      sprite,
      {
        op: "chown",
        path: helperPath,
        uid: id(body.uid),
        gid: id(body.gid),
        recursive: truthy(body.recursive),
      },
      String(body.path),
    );
    return c.json({ path: view });
  });

  return app;
}
