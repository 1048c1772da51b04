import { box } from "@vps-claude/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * `GET|PUT /rpc/box/{boxId}/network-policy` on the real stack: stored with the box, applied to its
 * running sprite through the Sprites policy API (sprites-local's implementation), and put back by a
 * redeploy.
 */
let server: TestServer;
let owner: TestClient;
let stranger: TestClient;
let boxId: string;
let spriteName: string;

async function waitForRunning(id: string) {
  const body = await waitFor(
    async () => (await owner.get(`/rpc/box/${id}`)).body,
    (current) => current.status === "running" || current.status === "error",
    { timeout: 120_000, interval: 300, what: "the box to be running" },
  );
  expect(body.status, JSON.stringify(body)).toBe("running");
}

beforeAll(async () => {
  server = await startTestServer({ workers: true, sprites: true });
  ({ client: owner } = await signedInClient(server));
  ({ client: stranger } = await signedInClient(server));
  const created = await owner.post("/rpc/box", { name: "Policy" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  await waitForRunning(boxId);
  const [row] = await server.deps.db.select().from(box).where(eq(box.id, boxId));
  spriteName = String(row?.spriteName);
}, 180_000);

afterAll(async () => {
  await server?.close();
});

const path = () => `/rpc/box/${boxId}/network-policy`;

describe("network policy: happy paths", () => {
  it("starts as the whole internet, with no rule on the sprite", async () => {
    const res = await owner.get(path());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ mode: "internet", domains: [] });
    expect(await server.deps.sprites.getNetworkPolicy(spriteName)).toEqual([]);
  });

  it("stores an allowlist normalized (lowercase, deduped, punycode) and applies it to the sprite", async () => {
    const res = await owner.put(path(), {
      mode: "allowlist",
      domains: ["GitHub.com", "github.com.", "*.NPMJS.org", "bücher.example", "github.com"],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const domains = ["github.com", "*.npmjs.org", "xn--bcher-kva.example"];
    expect(res.body).toEqual({ mode: "allowlist", domains });
    expect((await owner.get(path())).body).toEqual({ mode: "allowlist", domains });
    expect(await server.deps.sprites.getNetworkPolicy(spriteName)).toEqual([
      ...domains.map((domain) => ({ action: "allow", domain })),
      { action: "deny", domain: "*" },
    ]);
  });

  it("platform mode denies everything but the platform; internet mode removes every rule", async () => {
    const platform = await owner.put(path(), { mode: "platform", domains: [] });
    expect(platform.status, JSON.stringify(platform.body)).toBe(200);
    expect(await server.deps.sprites.getNetworkPolicy(spriteName)).toEqual([{ action: "deny", domain: "*" }]);
    // box-agent is still reached through the sprite URL (inbound is not egress).
    const health = await server.deps.sprites.fetchSprite(spriteName, "/health");
    expect(health.status).toBe(200);
    await health.body?.cancel();

    const internet = await owner.put(path(), { mode: "internet" });
    expect(internet.status, JSON.stringify(internet.body)).toBe(200);
    expect(internet.body).toEqual({ mode: "internet", domains: [] });
    expect(await server.deps.sprites.getNetworkPolicy(spriteName)).toEqual([]);
  });

  it("is put back on the sprite by a redeploy", async () => {
    await owner.put(path(), { mode: "allowlist", domains: ["example.com"] });
    // Whatever changed the sprite's rules since, the stored policy wins at the next deploy.
    await server.deps.sprites.setNetworkPolicy(spriteName, []);
    const redeploy = await owner.post("/rpc/box/deploy", { id: boxId });
    expect(redeploy.status, JSON.stringify(redeploy.body)).toBeLessThan(300);
    await waitFor(
      () => server.deps.sprites.getNetworkPolicy(spriteName),
      (rules) => rules.length === 2,
      { timeout: 120_000, interval: 300, what: "the redeploy to restore the rules" },
    );
    await waitForRunning(boxId);
    expect(await server.deps.sprites.getNetworkPolicy(spriteName)).toEqual([
      { action: "allow", domain: "example.com" },
      { action: "deny", domain: "*" },
    ]);
  });
});

describe("network policy: error paths", () => {
  const refused: Array<[string, unknown, string]> = [
    ["a scheme", { mode: "allowlist", domains: ["https://github.com"] }, "has a scheme"],
    ["a port", { mode: "allowlist", domains: ["github.com:443"] }, "has a port"],
    ["a path", { mode: "allowlist", domains: ["github.com/orgs"] }, "has a path"],
    ["an IPv4 address", { mode: "allowlist", domains: ["169.254.169.254"] }, "is an IP address"],
    ["an IPv6 address", { mode: "allowlist", domains: ["fd00::1"] }, "is an IP address"],
    ["a wildcard in the middle", { mode: "allowlist", domains: ["a.*.com"] }, "leading '*.'"],
    ["a bare '*'", { mode: "allowlist", domains: ["*"] }, "use mode 'internet'"],
    ["a single label", { mode: "allowlist", domains: ["intranet"] }, "not a full domain name"],
    ["a bad label", { mode: "allowlist", domains: ["-bad.example.com"] }, "not a valid domain name"],
    [
      "an unknown mode",
      { mode: "everything", domains: [] },
      "mode must be 'internet', 'allowlist' or 'platform'",
    ],
    ["domains that are not strings", { mode: "allowlist", domains: [42] }, "domains"],
  ];

  it.each(refused)("refuses %s with a message saying what is wrong", async (_what, body, message) => {
    const before = (await owner.get(path())).body;
    const res = await owner.put(path(), body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(String(res.body.message)).toContain(message);
    expect((await owner.get(path())).body).toEqual(before);
  });

  it("names every bad entry at once", async () => {
    const res = await owner.put(path(), {
      mode: "allowlist",
      domains: ["ok.example", "http://a.b", "c.d:1"],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(String(res.body.message)).toContain("'http://a.b' has a scheme");
    expect(String(res.body.message)).toContain("'c.d:1' has a port");
  });

  it("refuses more than 200 distinct domains, but counts duplicates once", async () => {
    const many = Array.from({ length: 201 }, (_, i) => `host${i}.example.com`);
    const res = await owner.put(path(), { mode: "allowlist", domains: many });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(String(res.body.message)).toContain("at most 200 domains");
    const repeated = [...many.slice(0, 200), ...many.slice(0, 200)];
    const ok = await owner.put(path(), { mode: "allowlist", domains: repeated });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((ok.body as unknown as { domains: string[] }).domains).toHaveLength(200);
    expect(await server.deps.sprites.getNetworkPolicy(spriteName)).toHaveLength(201);
  });

  it("keeps another user's box out (404), whatever they send", async () => {
    const get = await stranger.get(path());
    expect(get.status, JSON.stringify(get.body)).toBe(404);
    const put = await stranger.put(path(), { mode: "internet", domains: [] });
    expect(put.status, JSON.stringify(put.body)).toBe(404);
    const invalid = await stranger.put(path(), { mode: "nope" });
    expect(invalid.status, JSON.stringify(invalid.body)).toBe(404);
    expect((await owner.get(path())).body.mode).toBe("allowlist");
  });
});
