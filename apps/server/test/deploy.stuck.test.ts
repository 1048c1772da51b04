import { box } from "@vps-claude/db";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer } from "./harness";

let server: TestServer;
let client: TestClient;

beforeAll(async () => {
  // No workers at first: a deploy queued now makes no progress, as when its jobs were lost.
  server = await startTestServer({ sprites: true, env: { DEPLOY_STUCK_AFTER_MS: "1000" } });
  ({ client } = await signedInClient(server));
});
afterAll(async () => {
  await server?.close();
});

async function boxRow(id: string) {
  const [row] = await server.deps.db.select().from(box).where(eq(box.id, id));
  return row;
}

describe("a deploy that stopped moving", () => {
  it("joins a deploy that is still fresh, and starts over once it has been still for too long", async () => {
    const created = await client.post("/rpc/box", { name: "Stuck" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);
    const firstDeploy = (await boxRow(id))?.deployId;

    // A second click while the deploy is fresh collapses into it.
    const joined = await client.post("/rpc/box/deploy", { id });
    expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    expect((await boxRow(id))?.deployId).toBe(firstDeploy);

    // Its jobs are lost and nothing has moved for longer than DEPLOY_STUCK_AFTER_MS.
    await server.deps.queues.get("deployOrchestrator").obliterate({ force: true });
    await server.deps.db.execute(sql`update box set updated_at = now() - interval '1 hour' where id = ${id}`);

    const restarted = await client.post("/rpc/box/deploy", { id });
    expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
    const row = await boxRow(id);
    expect(row?.deployId).not.toBe(firstDeploy);
    expect(row?.status).toBe("pending");

    // The new attempt really runs to the end once workers are there.
    await server.startWorkers();
    await expect
      .poll(async () => (await boxRow(id))?.status, { timeout: 90_000, interval: 250 })
      .toBe("running");
  });
});
