import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer } from "./harness";

let server: TestServer;
let client: TestClient;

beforeAll(async () => {
  server = await startTestServer({ workers: true, sprites: true });
  ({ client } = await signedInClient(server));
});
afterAll(async () => {
  await server?.close();
});

describe("boxes", () => {
  it("creates a pending box with a subdomain and queues its deploy", async () => {
    const res = await client.post("/rpc/box", { name: "My Research Box" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.status).toBe("pending");
    expect(String(res.body.id)).toMatch(/^box_/);
    expect(String(res.body.subdomain)).toMatch(/^my-research-box-[a-z0-9]{4}$/);
    expect(res.body.email).toBe(`${res.body.subdomain}@agents.localhost`);

    const jobs = await server.deps.queues.get("deployOrchestrator").getJobs(["waiting", "delayed", "active"]);
    expect(jobs.map((job) => job.data.boxId)).toContain(res.body.id);

    const list = await client.get("/rpc/box");
    expect(list.status).toBe(200);
    expect((list.body as unknown as { id: string }[]).map((b) => b.id)).toContain(res.body.id);
  });

  it("lists, gets and deletes", async () => {
    const created = await client.post("/rpc/box", { name: "temp" });
    const id = String(created.body.id);
    const got = await client.get(`/rpc/box/${id}`);
    expect(got.status).toBe(200);
    const deleted = await client.delete(`/rpc/box/${id}`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body.status).toBe("deleting");
    await expect.poll(async () => (await client.get(`/rpc/box/${id}`)).status, { timeout: 10_000 }).toBe(404);
  });

  it("pages the list newest first", async () => {
    const { client: fresh } = await signedInClient(server);
    const ids: string[] = [];
    for (const name of ["one", "two", "three"]) {
      ids.push(String((await fresh.post("/rpc/box", { name })).body.id));
    }
    const first = (await fresh.get("/rpc/box?limit=2")).body as unknown as { id: string }[];
    expect(first.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    const second = (await fresh.get(`/rpc/box?limit=2&before=${first[1]?.id}`)).body as unknown as {
      id: string;
    }[];
    expect(second.map((b) => b.id)).toEqual([ids[0]]);
    expect((await fresh.get("/rpc/box?limit=0")).status).toBe(400);
  });

  it("signs out at once, session cookie cache or not", async () => {
    const { client: fresh } = await signedInClient(server);
    expect((await fresh.get("/rpc/box")).status).toBe(200);
    expect((await fresh.post("/api/auth/sign-out", {})).status).toBe(200);
    expect((await fresh.get("/rpc/box")).status).toBe(401);
  });
});
