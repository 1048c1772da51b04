import { boxApiRouter, getBoxToken, userRouter } from "@vps-claude/api";
import { boxEmail, boxRun, boxRunEvent, box as boxTable, modelRequest } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { type FakeAnthropic, startFakeAnthropic } from "@vps-claude/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, TestClient, type TestServer } from "./harness";

/**
 * The authorization matrix is generated from the routers themselves: every procedure must have a
 * case below, so a new route cannot ship without its owner-scoping checked.
 */
interface RouteInfo {
  name: string;
  method: string;
  path: string;
}

function collectRoutes(router: object, prefix: string, trail: string[] = []): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const [key, value] of Object.entries(router)) {
    const orpc = (value as { "~orpc"?: { route?: { method?: string; path?: string } } })["~orpc"];
    if (orpc?.route?.path) {
      routes.push({
        name: [...trail, key].join("."),
        method: orpc.route.method ?? "POST",
        path: `${prefix}${orpc.route.path}`,
      });
    } else if (value && typeof value === "object") {
      routes.push(...collectRoutes(value, prefix, [...trail, key]));
    }
  }
  return routes;
}

interface Fixture {
  boxId: string;
  emailId: string;
  cronjobId: string;
  envKey: string;
  credentialKey: string;
  /** A failed chat run of the box, with one transcript event. */
  runId: string;
}

/** What "another user" / "another box" should get: 404 for someone else's resource, or a result scoped to themselves. */
type CrossAccess = "not-found" | "own-scope";

interface Case {
  body?: (f: Fixture) => unknown;
  cross: CrossAccess;
  /** What the owner gets when success is not possible on a fixture box (pending, no sandbox). */
  ownerStatus?: number;
}

const USER_CASES: Record<string, Case> = {
  "box.list": { cross: "own-scope" },
  "box.get": { cross: "not-found" },
  "box.create": { body: () => ({ name: "matrix" }), cross: "own-scope" },
  "box.redeploy": { body: (f) => ({ id: f.boxId }), cross: "not-found" },
  "box.delete": { cross: "not-found" },
  "box.skills": { cross: "own-scope" },
  "cronjob.list": { cross: "not-found" },
  "cronjob.create": {
    body: () => ({ name: "hourly", schedule: "0 * * * *", prompt: "check mail" }),
    cross: "not-found",
  },
  "cronjob.update": { body: () => ({ prompt: "changed" }), cross: "not-found" },
  "cronjob.delete": { cross: "not-found" },
  "cronjob.toggle": { body: () => ({}), cross: "not-found" },
  "cronjob.executions": { cross: "not-found" },
  "cronjob.run": { cross: "not-found" },
  "credential.list": { cross: "own-scope" },
  "credential.create": { body: () => ({ key: "NEW_KEY", value: "new-secret-value" }), cross: "own-scope" },
  "credential.update": { body: () => ({ value: "rotated-secret-value" }), cross: "not-found" },
  "credential.delete": { cross: "not-found" },
  "envVar.list": { cross: "not-found" },
  "envVar.create": { body: () => ({ key: "NEW_VAR", value: "v", type: "plain" }), cross: "not-found" },
  "envVar.update": { body: () => ({ value: "v2" }), cross: "not-found" },
  "envVar.delete": { cross: "not-found" },
  "agentConfig.get": { cross: "not-found" },
  "agentConfig.update": {
    body: () => ({ triggerType: "email", model: "claude-opus-4-1" }),
    cross: "not-found",
  },
  "deploy.steps": { cross: "not-found" },
  "deploy.access": { cross: "not-found" },
  "networkPolicy.get": { cross: "not-found" },
  "networkPolicy.update": {
    body: () => ({ mode: "allowlist", domains: ["example.com"] }),
    cross: "not-found",
  },
  "files.list": { cross: "not-found", ownerStatus: 409 },
  "files.read": { cross: "not-found", ownerStatus: 409 },
  "files.write": { body: () => ({ path: "notes.md", content: "x" }), cross: "not-found", ownerStatus: 409 },
  "session.list": { cross: "not-found", ownerStatus: 409 },
  "session.send": { body: () => ({ message: "hello" }), cross: "not-found", ownerStatus: 409 },
  "email.list": { cross: "not-found" },
  "email.get": { cross: "not-found" },
  "email.retry": { cross: "not-found" },
  // The fixture email's one stored attachment (index 0).
  "email.attachment": { cross: "not-found" },
  "email.getSettings": { cross: "not-found" },
  "email.updateSettings": {
    body: () => ({ senderPolicy: "allowlist", allowedSenders: ["@example.com"] }),
    cross: "not-found",
  },
  // The fixture box never deployed: a new run (or a retry) needs it running.
  "run.create": { body: () => ({ message: "hello" }), cross: "not-found", ownerStatus: 409 },
  "run.list": { cross: "not-found" },
  "run.get": { cross: "not-found" },
  "run.stream": { cross: "not-found" },
  "run.cancel": { cross: "not-found" },
  "run.retry": { cross: "not-found", ownerStatus: 409 },
  // Asked with the fixture box as its filter: the owner's box is 404 to anyone else (see withQuery).
  "usage.report": { cross: "not-found" },
  // The caller's own budget, whoever calls; a box's budget only through its owner.
  "budget.get": { cross: "own-scope" },
  "budget.set": { body: () => ({ monthlyUsd: 5 }), cross: "own-scope" },
  "budget.getBox": { cross: "not-found" },
  "budget.setBox": { body: () => ({ monthlyUsd: 1 }), cross: "not-found" },
};

const BOX_CASES: Record<string, Case> = {
  "email.send": {
    body: () => ({ to: "someone@example.com", subject: "hi", body: "hello" }),
    cross: "own-scope",
  },
  "agentConfig.get": { cross: "own-scope" },
  "cronjob.list": { cross: "own-scope" },
  "cronjob.create": {
    body: () => ({ name: "from-box", schedule: "*/5 * * * *", prompt: "tick" }),
    cross: "own-scope",
  },
  "cronjob.update": { body: () => ({ prompt: "changed" }), cross: "not-found" },
  "cronjob.delete": { cross: "not-found" },
  "cronjob.toggle": { body: () => ({}), cross: "not-found" },
  // No media provider is configured on this test server: the call reaches the service and answers 503.
  "ai.generateImage": { body: () => ({ prompt: "a lighthouse" }), cross: "own-scope", ownerStatus: 503 },
  "ai.textToSpeech": { body: () => ({ text: "hello" }), cross: "own-scope", ownerStatus: 503 },
  "ai.speechToText": {
    body: () => ({ audioBase64: "UklGRg==", mimeType: "audio/wav" }),
    cross: "own-scope",
    ownerStatus: 503,
  },
};

function fillPath(path: string, f: Fixture): string {
  return path
    .replace("{boxId}", f.boxId)
    .replace(
      "{id}",
      path.includes("/cronjobs/{id}") ? f.cronjobId : path.includes("/emails/{id}") ? f.emailId : f.boxId,
    )
    .replace("{key}", path.startsWith("/rpc/credentials") ? f.credentialKey : f.envKey)
    .replace("{runId}", f.runId)
    .replace("{index}", "0");
}

function withQuery(route: RouteInfo, f: Fixture, name: string): string {
  const path = fillPath(route.path, f);
  if (name === "files.read" || name === "files.list") {
    return `${path}?path=notes.md`;
  }
  if (name === "usage.report") {
    return `${path}?boxId=${f.boxId}&groupBy=day,box`;
  }
  return name === "agentConfig.get" && route.path.startsWith("/box/") ? `${path}?triggerType=email` : path;
}

let server: TestServer;
let owner: TestClient;
let stranger: TestClient;

async function makeFixture(client: TestClient): Promise<Fixture> {
  const box = await client.post("/rpc/box", { name: "owned" });
  expect(box.status, JSON.stringify(box.body)).toBe(201);
  const boxId = String(box.body.id);
  const cron = await client.post(`/rpc/box/${boxId}/cronjobs`, {
    name: "daily",
    schedule: "0 9 * * *",
    prompt: "hello",
  });
  expect(cron.status, JSON.stringify(cron.body)).toBe(201);
  const env = await client.post(`/rpc/box/${boxId}/env`, { key: "MY_VAR", value: "x", type: "secret" });
  expect(env.status, JSON.stringify(env.body)).toBe(201);
  // One credential per owner, recreated after a test deleted it (the per-user limit would otherwise run out).
  const credentialKey = "FIXTURE_KEY";
  const cred = await client.post("/rpc/credentials", {
    key: credentialKey,
    value: "sk-test-0123456789abcdef",
  });
  expect([201, 409], JSON.stringify(cred.body)).toContain(cred.status);
  const emailId = newId("email");
  const attachment = Buffer.from("fixture attachment");
  const storageKey = `attachments/${emailId}/0-notes.txt`;
  await server.deps.storage.put(storageKey, attachment);
  await server.deps.db.insert(boxEmail).values({
    id: emailId,
    boxId,
    direction: "inbound",
    status: "failed",
    messageId: `<${emailId}@example.com>`,
    threadId: `<${emailId}@example.com>`,
    fromAddress: "sender@example.com",
    toAddresses: ["box@agents.localhost"],
    provider: "smtp",
    errorMessage: "box was down",
    attachments: [{ filename: "notes.txt", contentType: "text/plain", size: attachment.length, storageKey }],
  });
  const runId = await insertFailedRun(boxId);
  return { boxId, emailId, cronjobId: String(cron.body.id), envKey: "MY_VAR", credentialKey, runId };
}

/** An MCP server token in the fixture run's dispatch: the user API must never answer it. */
const MCP_SECRET = "mcp-matrix-secret-0123456789";

/** A chat run that failed, recorded as the platform records one (dispatch included), with one event. */
async function insertFailedRun(boxId: string): Promise<string> {
  const [owned] = await server.deps.db.select().from(boxTable).where(eq(boxTable.id, boxId));
  const runId = newId("run");
  await server.deps.db.insert(boxRun).values({
    id: runId,
    boxId,
    userId: String(owned?.userId),
    trigger: "chat",
    contextType: "session",
    contextId: "owner",
    status: "failed",
    prompt: "hello",
    error: "box was down",
    model: "claude-sonnet-4-5",
    maxDurationMs: 60_000,
    lastEventSeq: 1,
    dispatch: {
      runId,
      trigger: "chat",
      contextType: "session",
      contextId: "owner",
      session: "continue",
      task: { kind: "message", message: "hello" },
      agent: {
        model: "claude-sonnet-4-5",
        systemPrompt: "You are the matrix's agent.",
        mcpServers: {
          tools: {
            type: "http",
            url: "https://mcp.example.com/",
            headers: { authorization: `Bearer ${MCP_SECRET}` },
          },
        },
      },
      limits: { maxDurationMs: 60_000 },
    },
    completedAt: new Date(),
  });
  await server.deps.db.insert(boxRunEvent).values({
    runId,
    seq: 1,
    type: "error",
    data: { seq: 1, type: "error", at: new Date().toISOString(), message: "box was down" },
    at: new Date(),
  });
  return runId;
}

let modelApi: FakeAnthropic;

beforeAll(async () => {
  // The model gateway's upstream: a fake on loopback, so no case ever leaves the machine.
  modelApi = await startFakeAnthropic();
  server = await startTestServer({
    env: { ANTHROPIC_BASE_URL: modelApi.url, ANTHROPIC_API_KEY: "sk-ant-matrix-platform-key" },
  });
  ({ client: owner } = await signedInClient(server));
  ({ client: stranger } = await signedInClient(server));
});
afterAll(async () => {
  await server?.close();
  await modelApi?.close();
});

const userRoutes = collectRoutes(userRouter, "/rpc");
const boxRoutes = collectRoutes(boxApiRouter, "/box");

describe("authorization matrix covers every route", () => {
  it("has a case for each user route", () => {
    expect(userRoutes.map((r) => r.name).sort()).toEqual(Object.keys(USER_CASES).sort());
  });
  it("has a case for each box route", () => {
    expect(boxRoutes.map((r) => r.name).sort()).toEqual(Object.keys(BOX_CASES).sort());
  });
});

describe.each(userRoutes)("user route $name ($method $path)", (route) => {
  const testCase = USER_CASES[route.name] ?? { cross: "not-found" };

  it("refuses an anonymous caller with 401", async () => {
    const f = await makeFixture(owner);
    const anonymous = new TestClient(server);
    const res = await anonymous.request(route.method, withQuery(route, f, route.name), testCase.body?.(f));
    expect(res.status, JSON.stringify(res.body)).toBe(401);
  });

  it("keeps another user out", async () => {
    const f = await makeFixture(owner);
    const res = await stranger.request(route.method, withQuery(route, f, route.name), testCase.body?.(f));
    if (testCase.cross === "not-found") {
      expect(res.status, JSON.stringify(res.body)).toBe(404);
    } else {
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      expect(JSON.stringify(res.body)).not.toContain(f.boxId);
      expect(JSON.stringify(res.body)).not.toContain(f.credentialKey);
    }
    // The owner's resources are untouched whatever the stranger tried.
    expect((await owner.get(`/rpc/box/${f.boxId}`)).body.status).not.toBe("deleting");
    expect((await owner.get(`/rpc/box/${f.boxId}/cronjobs`)).body).toHaveLength(1);
    expect((await owner.get(`/rpc/box/${f.boxId}/env`)).body).toHaveLength(1);
  });

  it("lets the owner through", async () => {
    const f = await makeFixture(owner);
    const res = await owner.request(route.method, withQuery(route, f, route.name), testCase.body?.(f));
    if (testCase.ownerStatus) {
      expect(res.status, JSON.stringify(res.body)).toBe(testCase.ownerStatus);
    } else {
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    }
  });
});

describe("a run is reached only through its own box", () => {
  const runRoutes = userRoutes.filter((route) => route.path.includes("{runId}"));

  it.each(runRoutes)("$name: another box's run, even the caller's own, is 404", async (route) => {
    const f = await makeFixture(owner);
    const other = await makeFixture(owner);
    const res = await owner.request(route.method, withQuery(route, { ...f, runId: other.runId }, route.name));
    expect(res.status, JSON.stringify(res.body)).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain(other.boxId);
  });

  it("never answers a run's dispatch (it may carry MCP server secrets)", async () => {
    const f = await makeFixture(owner);
    const detail = await owner.get(`/rpc/box/${f.boxId}/runs/${f.runId}`);
    expect(detail.status, JSON.stringify(detail.body)).toBe(200);
    const page = await owner.get(`/rpc/box/${f.boxId}/runs`);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    const stream = await owner.get(`/rpc/box/${f.boxId}/runs/${f.runId}/stream`);
    expect(stream.status, JSON.stringify(stream.body)).toBe(200);
    for (const body of [detail.body, page.body, stream.body]) {
      const text = JSON.stringify(body);
      expect(text).toContain(f.runId);
      expect(text).not.toContain(MCP_SECRET);
      expect(text).not.toContain("matrix's agent");
      expect(text).not.toContain('"dispatch"');
      expect(text).not.toContain('"userId"');
    }
  });
});

describe.each(boxRoutes)("box route $name ($method $path)", (route) => {
  const testCase = BOX_CASES[route.name] ?? { cross: "not-found" };
  const tokenFor = async (boxId: string) => {
    const token = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId });
    if (!token) {
      throw new Error("box has no token");
    }
    return token;
  };

  it("refuses a request without a token", async () => {
    const f = await makeFixture(owner);
    const res = await new TestClient(server).request(
      route.method,
      withQuery(route, f, route.name),
      testCase.body?.(f),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(401);
  });

  it("refuses a wrong token", async () => {
    const f = await makeFixture(owner);
    const wrong = "0".repeat(64);
    const res = await new TestClient(server, { "x-box-secret": wrong }).request(
      route.method,
      withQuery(route, f, route.name),
      testCase.body?.(f),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(401);
    const garbage = await new TestClient(server, { "x-box-secret": "not-a-token" }).request(
      route.method,
      withQuery(route, f, route.name),
      testCase.body?.(f),
    );
    expect(garbage.status).toBe(401);
  });

  it("keeps another box's token on its own box", async () => {
    const f = await makeFixture(owner);
    const other = await makeFixture(stranger);
    const res = await new TestClient(server, { "x-box-secret": await tokenFor(other.boxId) }).request(
      route.method,
      withQuery(route, f, route.name),
      testCase.body?.(f),
    );
    if (testCase.cross === "not-found") {
      expect(res.status, JSON.stringify(res.body)).toBe(404);
    } else {
      // Own scope: the other box gets what it would get on its own, never the target's data.
      if (testCase.ownerStatus) {
        expect(res.status, JSON.stringify(res.body)).toBe(testCase.ownerStatus);
      } else {
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      }
      expect(JSON.stringify(res.body)).not.toContain(f.cronjobId);
    }
    expect((await owner.get(`/rpc/box/${f.boxId}/cronjobs`)).body).toHaveLength(1);
  });

  it("lets the box's own token through", async () => {
    const f = await makeFixture(owner);
    const res = await new TestClient(server, { "x-box-secret": await tokenFor(f.boxId) }).request(
      route.method,
      withQuery(route, f, route.name),
      testCase.body?.(f),
    );
    if (testCase.ownerStatus) {
      expect(res.status, JSON.stringify(res.body)).toBe(testCase.ownerStatus);
    } else {
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    }
  });
});

/**
 * The model gateway is not an oRPC route, so its cases are listed here: the box token may come as
 * `x-api-key` (what Claude sends), `Authorization: Bearer` or `X-Box-Secret`; whatever a box calls,
 * it is metered to the box whose token it used, and nothing reaches the API without a valid one.
 */
const LLM_ROUTES = [
  { method: "POST", path: "/box/llm/v1/messages" },
  { method: "POST", path: "/box/llm/v1/messages/count_tokens" },
  { method: "GET", path: "/box/llm/v1/models" },
];
const TOKEN_HEADERS: Record<string, (token: string) => Record<string, string>> = {
  "x-api-key": (token) => ({ "x-api-key": token }),
  bearer: (token) => ({ authorization: `Bearer ${token}` }),
  "x-box-secret": (token) => ({ "x-box-secret": token }),
};

describe.each(LLM_ROUTES)("model gateway $method $path", (route) => {
  const body =
    route.method === "GET" ? undefined : { model: "claude-sonnet-4-5", max_tokens: 8, messages: [] };
  const call = (headers: Record<string, string>) =>
    fetch(`${server.url}${route.path}`, {
      method: route.method,
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const tokenOf = async (boxId: string) =>
    String(await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId }));
  const rowsOf = (boxId: string) =>
    server.deps.db.select().from(modelRequest).where(eq(modelRequest.boxId, boxId));

  it.each(Object.keys(TOKEN_HEADERS))("refuses no token, a wrong one and garbage as %s", async (name) => {
    const asHeader = TOKEN_HEADERS[name] ?? TOKEN_HEADERS["x-api-key"];
    const before = modelApi.requests.length;
    for (const headers of [{}, asHeader?.("0".repeat(64)) ?? {}, asHeader?.("not-a-token") ?? {}]) {
      const res = await call(headers);
      const answer = await res.json();
      expect(res.status, JSON.stringify(answer)).toBe(401);
      expect(answer).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    }
    expect(modelApi.requests.length).toBe(before);
  });

  it.each(Object.keys(TOKEN_HEADERS))("meters another box's token to that box only (%s)", async (name) => {
    const f = await makeFixture(owner);
    const other = await makeFixture(stranger);
    const res = await call(TOKEN_HEADERS[name]?.(await tokenOf(other.boxId)) ?? {});
    await res.text();
    expect(res.status).not.toBe(401);
    await expect.poll(async () => (await rowsOf(other.boxId)).length).toBe(1);
    expect(await rowsOf(f.boxId)).toHaveLength(0);
  });

  it("lets the box's own token through to the API, with the real key instead", async () => {
    const f = await makeFixture(owner);
    const token = await tokenOf(f.boxId);
    const before = modelApi.requests.length;
    const res = await call({ "x-api-key": token });
    await res.text();
    expect(res.status).not.toBe(401);
    const forwarded = modelApi.requests.slice(before);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]?.headers["x-api-key"]).toBe("sk-ant-matrix-platform-key");
    expect(JSON.stringify(forwarded[0]?.headers)).not.toContain(token);
  });
});
