import { MAX_BOXES_PER_USER, MAX_CRONJOBS_PER_BOX } from "@vps-claude/api";
import { box, boxCronjob } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer } from "./harness";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
});

const CONCURRENT = 20;
const ROOM_LEFT = 5;

function tally(statuses: number[]) {
  return statuses.reduce<Record<number, number>>((acc, status) => {
    acc[status] = (acc[status] ?? 0) + 1;
    return acc;
  }, {});
}

async function fireAtOnce(client: TestClient, path: string, body: (index: number) => unknown) {
  const responses = await Promise.all(
    Array.from({ length: CONCURRENT }, (_, index) => client.post(path, body(index))),
  );
  return responses;
}

describe("per-user limits hold under concurrency", () => {
  it(`${CONCURRENT} concurrent box creations with room for ${ROOM_LEFT} create exactly ${ROOM_LEFT}`, async () => {
    const { client, user } = await signedInClient(server);
    // Filling up to the limit through the API would take minutes; the rows are what the limit counts.
    const seeded = MAX_BOXES_PER_USER - ROOM_LEFT;
    await server.deps.db.insert(box).values(
      Array.from({ length: seeded }, (_, index) => ({
        id: newId("box"),
        userId: user.userId,
        name: `seeded ${index}`,
        subdomain: `seeded-${index}-${user.userId.slice(-8).toLowerCase()}`,
      })),
    );

    const responses = await fireAtOnce(client, "/rpc/box", (index) => ({ name: `racer ${index}` }));
    const statuses = responses.map((res) => res.status);
    expect(tally(statuses), JSON.stringify(responses.map((res) => res.body.message ?? res.body.id))).toEqual({
      201: ROOM_LEFT,
      403: CONCURRENT - ROOM_LEFT,
    });
    const refused = responses.find((res) => res.status === 403);
    expect(refused?.body.message).toBe(
      `a user may own at most ${MAX_BOXES_PER_USER} boxes; delete one first`,
    );

    const [owned] = await server.deps.db.select({ n: count() }).from(box).where(eq(box.userId, user.userId));
    expect(owned?.n).toBe(MAX_BOXES_PER_USER);
  });

  it("the box limit is per user: another user is not held up by the first one's boxes", async () => {
    const { client } = await signedInClient(server);
    const res = await client.post("/rpc/box", { name: "mine" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });

  it(`${CONCURRENT} concurrent cronjob creations with room for ${ROOM_LEFT} create exactly ${ROOM_LEFT}`, async () => {
    const { client } = await signedInClient(server);
    const created = await client.post("/rpc/box", { name: "cron racer" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const boxId = String(created.body.id);
    await server.deps.db.insert(boxCronjob).values(
      Array.from({ length: MAX_CRONJOBS_PER_BOX - ROOM_LEFT }, (_, index) => ({
        id: newId("cronjob"),
        boxId,
        name: `seeded ${index}`,
        schedule: "0 9 * * *",
        prompt: "seeded",
        // Disabled, so the seeded rows need no scheduler entries.
        enabled: false,
      })),
    );

    const responses = await fireAtOnce(client, `/rpc/box/${boxId}/cronjobs`, (index) => ({
      name: `racer ${index}`,
      schedule: "0 9 * * *",
      prompt: "report",
    }));
    expect(
      tally(responses.map((res) => res.status)),
      JSON.stringify(responses.map((res) => res.body.message ?? res.body.id)),
    ).toEqual({ 201: ROOM_LEFT, 403: CONCURRENT - ROOM_LEFT });
    expect(responses.find((res) => res.status === 403)?.body.message).toBe(
      `a box may have at most ${MAX_CRONJOBS_PER_BOX} cronjobs; delete one first`,
    );
    const [jobs] = await server.deps.db
      .select({ n: count() })
      .from(boxCronjob)
      .where(eq(boxCronjob.boxId, boxId));
    expect(jobs?.n).toBe(MAX_CRONJOBS_PER_BOX);
  });
});
