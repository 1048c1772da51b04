import { APIError, SpritesClient } from "@fly/sprites";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHost, type TestHost } from "./helpers.js";

let host: TestHost;

beforeAll(async () => {
  host = await startHost();
});

afterAll(async () => {
  await host.close();
});

describe("sprite records through the SDK", () => {
  it("creates a sprite with the fields the real API returns", async () => {
    const sprite = await host.client.createSprite("crud-one", {
      urlSettings: { auth: "public" },
      labels: ["team-a"],
      environment: { GREETING: "hi" },
    });
    expect(sprite.name).toBe("crud-one");
    expect(sprite.id).toMatch(/^sprite-/);
    expect(sprite.status).toBe("cold");
    expect(sprite.url).toBe(`${host.local.proxyUrl}/proxy/crud-one`);
    expect(sprite.urlSettings?.auth).toBe("public");
    expect(sprite.labels).toEqual(["team-a"]);
    expect(sprite.organizationName).toBe("local");
    expect(sprite.createdAt).toBeInstanceOf(Date);

    const fetched = await host.client.getSprite("crud-one");
    expect(fetched.id).toBe(sprite.id);
    expect(fetched.environment).toEqual({ GREETING: "hi" });
  });

  it("answers raw snake_case JSON", async () => {
    await host.client.createSprite("crud-raw");
    const res = await fetch(`${host.local.url}/v1/sprites/crud-raw`, {
      headers: { authorization: `Bearer ${host.token}` },
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(Object.keys(body)).toEqual(
      expect.arrayContaining([
        "id",
        "name",
        "organization",
        "url",
        "status",
        "created_at",
        "updated_at",
        "url_settings",
      ]),
    );
    expect(body.url_settings).toEqual({ auth: "sprite" });
  });

  it("refuses duplicates and invalid names with API errors", async () => {
    await host.client.createSprite("crud-dup");
    const duplicate = await host.client.createSprite("crud-dup").catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(APIError);
    expect((duplicate as APIError).statusCode).toBe(409);
    expect((duplicate as APIError).errorCode).toBe("already_exists");

    const invalid = await host.client.createSprite("Not_Valid").catch((error: unknown) => error);
    expect((invalid as APIError).statusCode).toBe(400);
    expect((invalid as APIError).errorCode).toBe("invalid_request");
  });

  it("lists by prefix with pagination", async () => {
    for (const name of ["page-a", "page-b", "page-c", "other-x"]) {
      await host.client.createSprite(name);
    }
    const first = await host.client.listSprites({ prefix: "page-", maxResults: 2 });
    expect(first.sprites.map((s) => s.name)).toEqual(["page-a", "page-b"]);
    expect(first.hasMore).toBe(true);
    expect(first.nextContinuationToken).toBeTruthy();
    const second = await host.client.listSprites({
      prefix: "page-",
      maxResults: 2,
      continuationToken: first.nextContinuationToken,
    });
    expect(second.sprites.map((s) => s.name)).toEqual(["page-c"]);
    expect(second.hasMore).toBe(false);

    const all = await host.client.listAllSprites("page-");
    expect(all.map((s) => s.name)).toEqual(["page-a", "page-b", "page-c"]);
  });

  it("updates url settings and labels", async () => {
    await host.client.createSprite("crud-update");
    const updated = await host.client.updateSprite("crud-update", {
      urlSettings: { auth: "public" },
      labels: ["x", "y"],
    });
    expect(updated.urlSettings?.auth).toBe("public");
    expect(updated.labels).toEqual(["x", "y"]);
    const fetched = await host.client.getSprite("crud-update");
    expect(fetched.urlSettings?.auth).toBe("public");
  });

  it("deletes a sprite and its files; a missing sprite is a 404 not_found", async () => {
    const sprite = await host.client.createSprite("crud-delete");
    await sprite.filesystem("/home/sprite").writeFile("file.txt", "x");
    await host.client.deleteSprite("crud-delete");
    const missing = await host.client.getSprite("crud-delete").catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(APIError);
    expect((missing as APIError).statusCode).toBe(404);
    expect((missing as APIError).errorCode).toBe("not_found");
    const again = await host.client.deleteSprite("crud-delete").catch((error: unknown) => error);
    expect((again as APIError).statusCode).toBe(404);
  });
});

describe("API token", () => {
  it("refuses a wrong token with 401 JSON", async () => {
    const wrong = new SpritesClient("not-the-token", { baseURL: host.local.url });
    const error = await wrong.listSprites().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).statusCode).toBe(401);
    expect((error as APIError).errorCode).toBe("unauthorized");
  });

  it("refuses a missing token on every kind of endpoint", async () => {
    await host.client.createSprite("auth-target");
    for (const [method, path] of [
      ["GET", "/v1/sprites"],
      ["GET", "/v1/sprites/auth-target"],
      ["POST", "/v1/sprites/auth-target/exec?cmd=true"],
      ["GET", "/v1/sprites/auth-target/fs/read?path=/home/sprite/x"],
      ["GET", "/v1/sprites/auth-target/services"],
      ["GET", "/v1/sprites/auth-target/checkpoints"],
    ] as const) {
      const res = await fetch(`${host.local.url}${path}`, { method });
      const body = (await res.json()) as { error?: string };
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(body.error).toBe("unauthorized");
    }
  });

  it("refuses a WebSocket exec with a wrong token", async () => {
    await host.client.createSprite("auth-ws");
    const wrong = new SpritesClient("wrong", { baseURL: host.local.url });
    const error = await wrong
      .sprite("auth-ws")
      .execFile("echo", ["hi"])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/401|WebSocket/);
  });
});
