import { getBoxToken, PRICE_TABLE_VERSION, priceOf } from "@vps-claude/api";
import { boxRun, ledgerEntry, modelRequest, usageDaily } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import {
  anthropicReply,
  type FakeAnthropic,
  type FakeFal,
  scriptedClaude,
  startFakeAnthropic,
  startFakeFal,
} from "@vps-claude/testing";
import { seedUserWithBox } from "@vps-claude/testing/platform";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, TestClient, type TestServer, waitFor } from "./harness";

/**
 * The ledger on the real stack: a sprites-local box running box-agent and the real Claude CLI,
 * whose model requests pass the gateway to a fake Messages API reporting known usage per turn,
 * and whose media tool call goes through box-agent's MCP server to the fal fake. Every request
 * and call becomes one priced ledger entry, tied to its run and trigger, summed into usage_daily.
 */
const PER_TURN = { input_tokens: 1234, output_tokens: 567, cache_read_input_tokens: 89 };
const TURN_TOKENS = { inputTokens: 1234, outputTokens: 567, cacheReadTokens: 89, cacheWriteTokens: 0 };
const MODEL = "claude-sonnet-4-5";
const TURN_COST = priceOf({
  kind: "model",
  provider: "anthropic",
  model: MODEL,
  tokens: TURN_TOKENS,
}).costUsd;
const RUN_TEST_TIMEOUT_MS = 240_000;

const script = scriptedClaude({
  rules: [
    {
      when: "PAINT",
      reply: anthropicReply.toolUse("mcp__box-agent__generate_image", {
        prompt: "a lighthouse",
        size: "square",
      }),
    },
  ],
});

let fake: FakeAnthropic;
let fal: FakeFal;
let server: TestServer;
let client: TestClient;
let userId: string;
let boxId: string;

const ledgerOf = (id: string) => server.deps.db.select().from(ledgerEntry).where(eq(ledgerEntry.boxId, id));
const rollupOf = (id: string) => server.deps.db.select().from(usageDaily).where(eq(usageDaily.boxId, id));

beforeAll(async () => {
  fake = await startFakeAnthropic({ respond: script, usage: PER_TURN });
  fal = await startFakeFal({ pollsBeforeCompleted: 0 });
  server = await startTestServer({
    workers: true,
    sprites: true,
    env: {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: "sk-ant-test-platform-key",
      DEFAULT_MODEL: MODEL,
      FAL_KEY: fal.apiKey,
      FAL_BASE_URL: fal.url,
    },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "120000" },
  });
  ({
    client,
    user: { userId },
  } = await signedInClient(server));
  const created = await client.post("/rpc/box", { name: "Ledger" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  const ready = await waitFor(
    async () => (await client.get(`/rpc/box/${boxId}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 150_000, what: "the box to deploy" },
  );
  if (ready.status !== "running") {
    throw new Error(`box did not deploy: ${JSON.stringify(ready)}`);
  }
}, 240_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([fake?.close(), fal?.close()]);
});

describe("the ledger of a chat run", () => {
  it(
    "has one entry per model request with the fake's tokens and the table's cost, and the run's media call, all tied to the run",
    async () => {
      const res = await client.post(`/rpc/box/${boxId}/sessions/send`, {
        contextId: "ledger",
        message: "PAINT me a lighthouse",
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.status, JSON.stringify(res.body)).toBe("completed");
      expect(String(res.body.result)).toContain("generate_image answered");
      const runId = String(res.body.runId);
      const turns = fake.requestsForSession(String(res.body.sessionId)).length;
      // The tool call and the answer after it, at least.
      expect(turns).toBeGreaterThanOrEqual(2);

      const entries = await waitFor(
        () => ledgerOf(boxId),
        (rows) => rows.filter((row) => row.kind === "model").length >= turns,
        { timeout: 15_000, what: "the gateway's batch to be written" },
      );
      const models = entries.filter((entry) => entry.kind === "model");
      expect(models).toHaveLength(turns);
      for (const entry of models) {
        expect(entry).toMatchObject({
          userId,
          boxId,
          boxName: "Ledger",
          runId,
          trigger: "chat",
          provider: "anthropic",
          model: MODEL,
          inputTokens: 1234,
          outputTokens: 567,
          cacheReadTokens: 89,
          cacheWriteTokens: 0,
          costUsd: TURN_COST,
          priceVersion: PRICE_TABLE_VERSION,
        });
      }
      // Each entry is the record of one model_request row.
      const requests = await server.deps.db.select().from(modelRequest).where(eq(modelRequest.boxId, boxId));
      expect(models.map((entry) => entry.sourceId).sort()).toEqual(requests.map((row) => row.id).sort());

      const media = entries.filter((entry) => entry.kind === "media");
      expect(media).toEqual([
        expect.objectContaining({
          runId,
          trigger: "chat",
          provider: "fal",
          model: "fal-ai/flux/dev",
          capability: "image",
          units: 1,
          unit: "image",
          costUsd: 0.025,
        }),
      ]);

      const rollup = await rollupOf(boxId);
      expect(rollup).toHaveLength(2);
      expect(rollup.find((row) => row.kind === "model")).toMatchObject({
        trigger: "chat",
        model: MODEL,
        entries: turns,
        unpricedEntries: 0,
        inputTokens: 1234 * turns,
        outputTokens: 567 * turns,
        cacheReadTokens: 89 * turns,
        cacheWriteTokens: 0,
        mediaCalls: 0,
      });
      expect(rollup.find((row) => row.kind === "model")?.costUsd).toBeCloseTo((TURN_COST ?? 0) * turns, 6);
      expect(rollup.find((row) => row.kind === "media")).toMatchObject({
        trigger: "chat",
        model: "fal-ai/flux/dev",
        entries: 1,
        mediaCalls: 1,
        costUsd: 0.025,
      });
    },
    RUN_TEST_TIMEOUT_MS,
  );

  it("bills a media call that names another box's run to no run: a box may lie", async () => {
    const { box: theirs, userId: theirUserId } = await seedUserWithBox(server.deps.db);
    const theirRun = newId("run");
    await server.deps.db.insert(boxRun).values({
      id: theirRun,
      boxId: theirs.id,
      userId: theirUserId,
      trigger: "cron",
      contextType: "cron",
      contextId: "x",
      prompt: "x",
      dispatch: {},
      maxDurationMs: 60_000,
    });
    const token = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId });
    const lying = new TestClient(server, { "x-box-secret": String(token), "x-vps-run-id": theirRun });
    const res = await lying.post("/box/ai/generate-image", { prompt: "x", size: "square" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const media = (await ledgerOf(boxId)).filter((entry) => entry.kind === "media" && entry.runId === null);
    expect(media).toEqual([expect.objectContaining({ trigger: null, costUsd: 0.025, boxId })]);
    expect(await ledgerOf(theirs.id)).toEqual([]);
  });

  it("prices each request by its own model, and an unknown model as null, counted as unpriced", async () => {
    const [chatEntry] = (await ledgerOf(boxId)).filter((entry) => entry.trigger === "chat");
    const token = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId });
    const ask = (model: string) =>
      fetch(`${server.url}/box/llm/v1/messages`, {
        method: "POST",
        headers: {
          "x-api-key": String(token),
          "content-type": "application/json",
          "x-vps-run-id": String(chatEntry?.runId),
        },
        body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
      });
    for (const model of ["claude-opus-4-1-20250805", "claude-nova-9"]) {
      const res = await ask(model);
      expect(res.status, await res.text()).toBe(200);
    }
    const entries = await waitFor(
      async () => (await ledgerOf(boxId)).filter((entry) => entry.model !== MODEL && entry.kind === "model"),
      (rows) => rows.length === 2,
      { timeout: 15_000, what: "the two entries" },
    );
    const byModel = Object.fromEntries(entries.map((entry) => [entry.model, entry]));
    expect(byModel["claude-opus-4-1-20250805"]).toMatchObject({
      runId: chatEntry?.runId,
      trigger: "chat",
      inputTokens: 1234,
      // 1234 × $15 + 567 × $75 + 89 × $1.50 per million
      costUsd: 0.061169,
    });
    expect(byModel["claude-nova-9"]).toMatchObject({ inputTokens: 1234, costUsd: null });
    const unknown = (await rollupOf(boxId)).find((row) => row.model === "claude-nova-9");
    expect(unknown).toMatchObject({ entries: 1, unpricedEntries: 1, inputTokens: 1234, costUsd: 0 });
  });

  it("keeps the entries and the rollup when the box is deleted", async () => {
    const before = await ledgerOf(boxId);
    expect(before.length).toBeGreaterThan(0);
    const deleted = await client.delete(`/rpc/box/${boxId}`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBeLessThan(300);
    await waitFor(
      async () => (await client.get(`/rpc/box/${boxId}`)).status,
      (status) => status === 404,
      { timeout: 60_000, what: "the box to be deleted" },
    );
    const after = await ledgerOf(boxId);
    expect(after.map((entry) => entry.id).sort()).toEqual(before.map((entry) => entry.id).sort());
    const rollup = await rollupOf(boxId);
    expect(rollup.length).toBeGreaterThan(0);
    expect(rollup.every((row) => row.boxName === "Ledger")).toBe(true);
  }, 90_000);
});
