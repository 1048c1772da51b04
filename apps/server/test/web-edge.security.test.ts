import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { box, user } from "@vps-claude/db";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, TestClient, type TestServer } from "./harness";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const EVIL = "https://evil.example";

/** Signs up through fetch and returns the raw Cookie header, for requests TestClient would not make. */
async function sessionCookie(server: TestServer): Promise<{ cookie: string; userId: string }> {
  const email = `edge-${randomBytes(4).toString("hex")}@example.com`;
  const res = await fetch(`${server.url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { origin: server.publicUrl, "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct-horse-battery", name: "edge" }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const body = (await res.json()) as { user: { id: string } };
  const cookie = res.headers
    .getSetCookie()
    .map((header) => header.split(";")[0])
    .join("; ");
  return { cookie, userId: body.user.id };
}

async function signInAttempts(server: TestServer, email: string, forwardedFor: (attempt: number) => string) {
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 14; attempt++) {
    const res = await fetch(`${server.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: {
        origin: server.publicUrl,
        "content-type": "application/json",
        "x-forwarded-for": forwardedFor(attempt),
        // Our edge alone may state the client address; a caller sending it is ignored.
        "x-vps-client-address": `198.18.0.${attempt}`,
      },
      body: JSON.stringify({ email, password: "wrong-password" }),
    });
    statuses.push(res.status);
  }
  return statuses;
}

describe("X-Forwarded-For does not lift the sign-in rate limit", () => {
  it("from an untrusted peer (the default: no TRUSTED_PROXIES), rotating spoofed addresses still hit 429", async () => {
    const server = await startTestServer({ env: { AUTH_RATE_LIMIT: "on" } });
    try {
      const { email } = await new TestClient(server).signUp();
      const statuses = await signInAttempts(server, email, (attempt) => `203.0.113.${attempt + 1}`);
      expect(statuses.slice(0, 5), JSON.stringify(statuses)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(-3), JSON.stringify(statuses)).toEqual([429, 429, 429]);
    } finally {
      await server.close();
    }
  });

  it("through a trusted proxy, entries left of the first untrusted hop are ignored", async () => {
    const server = await startTestServer({
      env: { AUTH_RATE_LIMIT: "on", TRUSTED_PROXIES: "127.0.0.1,10.0.0.0/8" },
    });
    try {
      const { email } = await new TestClient(server).signUp();
      // The attacker at 198.51.100.9 writes whatever it likes first; the proxy (10.0.0.2) appends the truth.
      const statuses = await signInAttempts(
        server,
        email,
        (attempt) => `192.0.2.${attempt + 1}, 198.51.100.9, 10.0.0.2`,
      );
      expect(statuses.slice(-3), JSON.stringify(statuses)).toEqual([429, 429, 429]);
      // A different real client behind the same proxy has its own allowance.
      const other = await fetch(`${server.url}/api/auth/sign-in/email`, {
        method: "POST",
        headers: {
          origin: server.publicUrl,
          "content-type": "application/json",
          "x-forwarded-for": "198.51.100.10, 10.0.0.2",
        },
        body: JSON.stringify({ email, password: "wrong-password" }),
      });
      expect(other.status).toBe(401);
    } finally {
      await server.close();
    }
  });
});

describe("cookie-authenticated /rpc calls must come from the dashboard", () => {
  let server: TestServer;
  let cookie: string;
  let userId: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { TRUSTED_ORIGINS: "http://127.0.0.1:33001" } });
    ({ cookie, userId } = await sessionCookie(server));
  });
  afterAll(async () => {
    await server?.close();
  });

  const ownedBoxes = async () => {
    const [row] = await server.deps.db.select({ n: count() }).from(box).where(eq(box.userId, userId));
    return row?.n ?? 0;
  };

  const rpc = (method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array) =>
    fetch(`${server.url}${path}`, { method, headers: { cookie, ...headers }, body });

  it("refuses a cross-origin form POST with a valid cookie, and nothing is created", async () => {
    const res = await rpc(
      "POST",
      "/rpc/box",
      { origin: EVIL, "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "cross-site" },
      "name=pwned",
    );
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(403);
    expect(body).toEqual({
      code: "FORBIDDEN",
      status: 403,
      message: `cross-site request refused: Origin '${EVIL}' is not the dashboard's (http://localhost:33001, http://127.0.0.1:33001); call the API from the dashboard, or authenticate without cookies`,
    });
    expect(await ownedBoxes()).toBe(0);
  });

  it.each([
    [
      "a cross-origin JSON POST",
      { origin: EVIL, "content-type": "application/json" },
      /Origin 'https:\/\/evil\.example'/,
    ],
    ["an opaque (null) Origin", { origin: "null", "content-type": "application/json" }, /Origin 'null'/],
    [
      "a look-alike origin",
      { origin: "http://localhost:33001.evil.example", "content-type": "application/json" },
      /is not the dashboard's/,
    ],
    [
      "no Origin from another site",
      { "sec-fetch-site": "cross-site", "content-type": "application/json" },
      /needs an Origin header/,
    ],
    ["no Origin and no fetch metadata", { "content-type": "application/json" }, /needs an Origin header/],
    [
      "a same-origin form body",
      { origin: "http://localhost:33001", "content-type": "application/x-www-form-urlencoded" },
      /JSON bodies only/,
    ],
    [
      "a same-origin text/plain body",
      { origin: "http://localhost:33001", "content-type": "text/plain" },
      /JSON bodies only/,
    ],
    [
      "a same-origin multipart body",
      { origin: "http://localhost:33001", "content-type": "multipart/form-data; boundary=x" },
      /JSON bodies only/,
    ],
    ["a body with no content type", { origin: "http://localhost:33001" }, /Content-Type 'none'/],
  ])("refuses %s", async (_, headers, message) => {
    // Bytes, so fetch adds no Content-Type of its own (a string body would become text/plain).
    const payload = new TextEncoder().encode(JSON.stringify({ name: "pwned" }));
    const res = await rpc("POST", "/rpc/box", headers as Record<string, string>, payload);
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(403);
    expect(body.code).toBe("FORBIDDEN");
    expect(String(body.message)).toMatch(message);
    expect(await ownedBoxes()).toBe(0);
  });

  it("refuses PUT and DELETE from another origin too", async () => {
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const res = await rpc(method, "/rpc/box/box_00000000000000000000000000", { origin: EVIL });
      expect(res.status, method).toBe(403);
    }
  });

  it("accepts the dashboard's own calls: PUBLIC_URL, a TRUSTED_ORIGINS entry, Sec-Fetch-Site same-origin", async () => {
    const dashboardCalls: Record<string, string>[] = [
      { origin: "http://localhost:33001" },
      { origin: "http://127.0.0.1:33001" },
      { "sec-fetch-site": "same-origin" },
    ];
    for (const headers of dashboardCalls) {
      const res = await rpc(
        "POST",
        "/rpc/box",
        { ...headers, "content-type": "application/json; charset=utf-8" },
        JSON.stringify({ name: "mine" }),
      );
      expect(res.status, await res.text()).toBe(201);
    }
    expect(await ownedBoxes()).toBe(3);
    // A bodiless DELETE needs no content type.
    const [first] = await server.deps.db
      .select({ id: box.id })
      .from(box)
      .where(eq(box.userId, userId))
      .limit(1);
    const deleted = await rpc("DELETE", `/rpc/box/${first?.id}`, { origin: "http://localhost:33001" });
    expect(deleted.status, await deleted.text()).toBe(200);
  });

  it("leaves reads and cookie-less callers alone (they are not a cross-site risk)", async () => {
    const read = await rpc("GET", "/rpc/box", { origin: EVIL });
    expect(read.status).toBe(200);
    const anonymous = await fetch(`${server.url}/rpc/box`, {
      method: "POST",
      headers: { origin: EVIL, "content-type": "application/json" },
      body: JSON.stringify({ name: "anon" }),
    });
    expect(anonymous.status).toBe(401);
  });
});

describe("response headers and cookies", () => {
  it("the API forbids framing and sniffing on every answer", async () => {
    const server = await startTestServer();
    try {
      for (const path of ["/health", "/rpc/box", "/nowhere", "/docs"]) {
        const res = await fetch(`${server.url}${path}`);
        expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
        expect(res.headers.get("x-frame-options"), path).toBe("DENY");
        expect(res.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
      }
    } finally {
      await server.close();
    }
  });

  it("session cookies are Secure whenever PUBLIC_URL is https, whatever NODE_ENV says", async () => {
    const secure = await startTestServer({
      env: { PUBLIC_URL: "https://dash.example", NODE_ENV: "development" },
    });
    const plain = await startTestServer();
    try {
      const client = new TestClient(secure);
      const signUp = await client.request("POST", "/api/auth/sign-up/email", {
        email: "secure@example.com",
        password: "correct-horse-battery",
        name: "secure",
      });
      expect(signUp.status, JSON.stringify(signUp.body)).toBe(200);
      const cookies = signUp.headers.getSetCookie();
      expect(cookies.length).toBeGreaterThan(0);
      for (const header of cookies) {
        expect(header).toMatch(/^__Secure-better-auth\./);
        expect(header).toMatch(/;\s*Secure/i);
        expect(header).toMatch(/;\s*HttpOnly/i);
      }
      expect((await client.get("/rpc/box")).status).toBe(200);

      const plainCookies = (
        await new TestClient(plain).request("POST", "/api/auth/sign-up/email", {
          email: "plain@example.com",
          password: "correct-horse-battery",
          name: "plain",
        })
      ).headers.getSetCookie();
      expect(plainCookies.length).toBeGreaterThan(0);
      for (const header of plainCookies) {
        expect(header).not.toMatch(/;\s*Secure/i);
      }
    } finally {
      await Promise.all([secure.close(), plain.close()]);
    }
  });
});

describe("SIGNUP", () => {
  it("open (the default) lets anyone sign up", async () => {
    const server = await startTestServer();
    try {
      await new TestClient(server).signUp();
      await new TestClient(server).signUp();
    } finally {
      await server.close();
    }
  });

  it("closed: only the first of concurrent sign-ups succeeds, later ones get 403, an operator-made account signs in", async () => {
    const server = await startTestServer({ env: { SIGNUP: "closed" } });
    try {
      const attempts = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          new TestClient(server).post("/api/auth/sign-up/email", {
            email: `first-${index}@example.com`,
            password: "correct-horse-battery",
            name: `first ${index}`,
          }),
        ),
      );
      const statuses = attempts.map((res) => res.status);
      expect(
        statuses.filter((status) => status === 200),
        JSON.stringify(statuses),
      ).toHaveLength(1);
      expect(
        statuses.every((status) => [200, 403, 409].includes(status)),
        JSON.stringify(statuses),
      ).toBe(true);
      const users = async () => (await server.deps.db.select({ n: count() }).from(user))[0]?.n;
      expect(await users()).toBe(1);

      const late = await new TestClient(server).post("/api/auth/sign-up/email", {
        email: "late@example.com",
        password: "correct-horse-battery",
        name: "late",
      });
      expect(late.status).toBe(403);
      expect(late.body).toEqual({
        code: "FORBIDDEN",
        status: 403,
        message: "sign-up is closed on this platform: ask its operator for an account (npm run create-user)",
      });
      expect(await users()).toBe(1);

      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          "--import",
          "tsx",
          "apps/server/src/cli/create-user.ts",
          "--email",
          "made@example.com",
          "--password",
          "operator-made-pass",
        ],
        { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: server.databaseUrl } },
      );
      expect(JSON.parse(stdout)).toMatchObject({ created: { email: "made@example.com" } });
      expect(await users()).toBe(2);
      const client = new TestClient(server);
      const signIn = await client.post("/api/auth/sign-in/email", {
        email: "made@example.com",
        password: "operator-made-pass",
      });
      expect(signIn.status, JSON.stringify(signIn.body)).toBe(200);
      expect((await client.get("/rpc/box")).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
