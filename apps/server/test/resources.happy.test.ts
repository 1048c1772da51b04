import { getBoxToken } from "@vps-claude/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, TestClient, type TestServer } from "./harness";

let server: TestServer;
let client: TestClient;
let boxId: string;

beforeAll(async () => {
  server = await startTestServer();
  ({ client } = await signedInClient(server));
  boxId = String((await client.post("/rpc/box", { name: "Happy", skills: ["web-research"] })).body.id);
});
afterAll(async () => {
  await server?.close();
});

const schedulers = () => server.deps.queues.get("triggerCronjob").getJobSchedulers();

describe("cronjobs", () => {
  it("create, list, update, toggle, executions, delete — with the BullMQ scheduler kept in step", async () => {
    const created = await client.post(`/rpc/box/${boxId}/cronjobs`, {
      name: "morning brief",
      schedule: "0 9 * * 1-5",
      prompt: "Summarise my inbox",
      timezone: "Europe/Berlin",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      name: "morning brief",
      schedule: "0 9 * * 1-5",
      timezone: "Europe/Berlin",
      enabled: true,
    });
    const id = String(created.body.id);
    expect(id).toMatch(/^cron_/);
    expect((await schedulers()).map((s) => [s.key, s.pattern, s.tz])).toContainEqual([
      `cronjob-${id}`,
      "0 9 * * 1-5",
      "Europe/Berlin",
    ]);

    const list = await client.get(`/rpc/box/${boxId}/cronjobs`);
    expect(list.body).toHaveLength(1);

    const updated = await client.put(`/rpc/box/${boxId}/cronjobs/${id}`, { schedule: "30 8 * * *" });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({ schedule: "30 8 * * *", prompt: "Summarise my inbox" });
    expect((await schedulers()).find((s) => s.key === `cronjob-${id}`)?.pattern).toBe("30 8 * * *");

    const off = await client.post(`/rpc/box/${boxId}/cronjobs/${id}/toggle`);
    expect(off.body.enabled).toBe(false);
    expect((await schedulers()).find((s) => s.key === `cronjob-${id}`)).toBeUndefined();
    const on = await client.post(`/rpc/box/${boxId}/cronjobs/${id}/toggle`, { enabled: true });
    expect(on.body.enabled).toBe(true);
    expect((await schedulers()).find((s) => s.key === `cronjob-${id}`)).toBeDefined();

    const executions = await client.get(`/rpc/box/${boxId}/cronjobs/${id}/executions?limit=10`);
    expect(executions.status).toBe(200);
    expect(executions.body).toEqual([]);

    const deleted = await client.delete(`/rpc/box/${boxId}/cronjobs/${id}`);
    expect(deleted.status).toBe(200);
    expect((await client.get(`/rpc/box/${boxId}/cronjobs`)).body).toHaveLength(0);
    expect((await schedulers()).find((s) => s.key === `cronjob-${id}`)).toBeUndefined();
  });
});

describe("credentials", () => {
  it("stores, masks, updates and deletes", async () => {
    const created = await client.post("/rpc/credentials", {
      key: "ANTHROPIC_API_KEY",
      value: "sk-ant-api03-abcdefghijklmnop",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ key: "ANTHROPIC_API_KEY", maskedValue: "••••••••mnop" });
    expect(JSON.stringify(created.body)).not.toContain("sk-ant-api03");

    const list = await client.get("/rpc/credentials");
    expect(list.body).toEqual([
      expect.objectContaining({ key: "ANTHROPIC_API_KEY", maskedValue: "••••••••mnop" }),
    ]);

    const updated = await client.put("/rpc/credentials/ANTHROPIC_API_KEY", {
      value: "sk-ant-api03-zzzzzzzzzzzzwxyz",
    });
    expect(updated.body.maskedValue).toBe("••••••••wxyz");

    expect((await client.delete("/rpc/credentials/ANTHROPIC_API_KEY")).status).toBe(200);
    expect((await client.get("/rpc/credentials")).body).toEqual([]);
  });
});

describe("env vars", () => {
  it("shows plain values, masks secrets, updates and deletes", async () => {
    expect((await client.post(`/rpc/box/${boxId}/env`, { key: "GREETING", value: "hello" })).status).toBe(
      201,
    );
    const secret = await client.post(`/rpc/box/${boxId}/env`, {
      key: "GITHUB_TOKEN",
      value: "ghp_abcdefghijklmnop1234",
      type: "secret",
    });
    expect(secret.body).toMatchObject({
      key: "GITHUB_TOKEN",
      type: "secret",
      value: null,
      maskedValue: "••••••••1234",
    });

    const list = await client.get(`/rpc/box/${boxId}/env`);
    expect(list.body).toEqual([
      expect.objectContaining({ key: "GITHUB_TOKEN", value: null }),
      expect.objectContaining({ key: "GREETING", type: "plain", value: "hello" }),
    ]);
    expect(JSON.stringify(list.body)).not.toContain("ghp_");

    const changed = await client.put(`/rpc/box/${boxId}/env/GREETING`, { value: "hi", type: "secret" });
    expect(changed.body).toMatchObject({ type: "secret", value: null });
    expect((await client.delete(`/rpc/box/${boxId}/env/GREETING`)).status).toBe(200);
    expect((await client.get(`/rpc/box/${boxId}/env`)).body).toHaveLength(1);
  });
});

describe("agent config", () => {
  it("returns defaults for every trigger type and saves an update", async () => {
    const defaults = await client.get(`/rpc/box/${boxId}/agent-config`);
    expect(defaults.status).toBe(200);
    expect((defaults.body as unknown as { triggerType: string }[]).map((c) => c.triggerType)).toEqual([
      "email",
      "cron",
      "session",
    ]);
    expect(defaults.body[0]).toMatchObject({
      isDefaultPrompt: true,
      model: "claude-sonnet-4-5",
      mcpServers: {},
    });

    const updated = await client.post(`/rpc/box/${boxId}/agent-config`, {
      triggerType: "cron",
      model: "claude-opus-4-1",
      systemPrompt: "Be brief.",
      mcpServers: { search: { type: "http", url: "https://mcp.example.com/mcp" } },
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({
      triggerType: "cron",
      model: "claude-opus-4-1",
      systemPrompt: "Be brief.",
      isDefaultPrompt: false,
    });

    const reset = await client.post(`/rpc/box/${boxId}/agent-config`, {
      triggerType: "cron",
      systemPrompt: null,
    });
    expect(reset.body).toMatchObject({ model: "claude-opus-4-1", isDefaultPrompt: true });
  });
});

describe("redeploy", () => {
  it("collapses into the deploy already pending", async () => {
    const first = await client.post("/rpc/box/deploy", { id: boxId });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const jobs = await server.deps.queues.get("deployOrchestrator").getJobs(["waiting", "delayed"]);
    expect(jobs.filter((job) => job.data.boxId === boxId)).toHaveLength(1);
  });

  it("starts a new deploy for a box in error", async () => {
    const { box } = await import("@vps-claude/db");
    const { eq } = await import("drizzle-orm");
    await server.deps.db.update(box).set({ status: "error", errorMessage: "boom" }).where(eq(box.id, boxId));
    const res = await client.post("/rpc/box/deploy", { id: boxId });
    expect(res.body).toMatchObject({ status: "pending", errorMessage: null });
    const jobs = await server.deps.queues.get("deployOrchestrator").getJobs(["waiting", "delayed"]);
    expect(jobs.filter((job) => job.data.boxId === boxId)).toHaveLength(2);
  });
});

describe("box API (X-Box-Secret)", () => {
  it("reads its agent config and manages its own cronjobs", async () => {
    const token = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId });
    const box = new TestClient(server, { "x-box-secret": String(token) });
    const config = await box.get("/box/agent-config?triggerType=email");
    expect(config.status, JSON.stringify(config.body)).toBe(200);
    expect(config.body).toMatchObject({ triggerType: "email", isDefaultPrompt: true });
    expect(String(config.body.systemPrompt)).toContain("untrusted");

    const created = await box.post("/box/cronjobs", {
      name: "box-made",
      schedule: "*/15 * * * *",
      prompt: "check feeds",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);
    expect((await box.put(`/box/cronjobs/${id}`, { name: "renamed" })).body.name).toBe("renamed");
    expect((await box.post(`/box/cronjobs/${id}/toggle`)).body.enabled).toBe(false);
    expect((await box.get("/box/cronjobs")).body).toEqual([expect.objectContaining({ id, name: "renamed" })]);
    // The owner sees what the box created.
    expect((await client.get(`/rpc/box/${boxId}/cronjobs`)).body).toEqual([expect.objectContaining({ id })]);
    expect((await box.delete(`/box/cronjobs/${id}`)).status).toBe(200);
  });
});

describe("service surface", () => {
  it("answers /health with both dependencies checked", async () => {
    const res = await new TestClient(server).get("/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", checks: { postgres: "ok", redis: "ok" } });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("serves the OpenAPI document and a readable reference", async () => {
    const doc = await new TestClient(server).get("/openapi.json");
    expect(doc.status).toBe(200);
    const paths = Object.keys((doc.body as unknown as { paths: Record<string, unknown> }).paths);
    expect(paths).toEqual(
      expect.arrayContaining(["/rpc/box", "/rpc/box/{boxId}/cronjobs", "/box/cronjobs", "/rpc/credentials"]),
    );
    const page = await fetch(`${server.url}/docs`);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("/rpc/box/{boxId}/env");
  });
});
