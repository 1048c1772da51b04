import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { getBoxToken } from "@vps-claude/api";
import { boxRun, budgetAlert } from "@vps-claude/db";
import {
  type FakeAnthropic,
  type FakeFal,
  scriptedClaude,
  startFakeAnthropic,
  startFakeFal,
} from "@vps-claude/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, TestClient, type TestServer, waitFor } from "./harness";

/**
 * Budgets that stop spend, end to end: a sprites-local sandbox running box-agent, the real Agent SDK
 * and Claude Code CLI against a fake Messages API that reports known usage, the gateway's ledger,
 * BullMQ and the local outbox. The cases run in order on one box: each builds on the spend before.
 */

/** Real Claude runs in a real sandbox on a shared, busy machine. */
const RUN_TEST_TIMEOUT_MS = 240_000;
const TOOL = "mcp__box-agent__cronjob_list";
/** What every model answer reports (Messages API usage). */
const TURN_USAGE = { input_tokens: 1234, output_tokens: 567, cache_read_input_tokens: 89 };

let fake: FakeAnthropic;
let fal: FakeFal;
let server: TestServer;
let owner: TestClient;
let ownerEmail: string;
let boxId: string;
let otherBoxId: string;

beforeAll(async () => {
  fal = await startFakeFal({ pollsBeforeCompleted: 0 });
  fake = await startFakeAnthropic({
    usage: TURN_USAGE,
    respond: scriptedClaude({
      rules: [{ when: "USE A TOOL", reply: { text: "Looking", toolUses: [{ name: TOOL, input: {} }] } }],
      otherwise: () => "Done.",
    }),
  });
  server = await startTestServer({
    workers: true,
    sprites: true,
    env: {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: "sk-ant-test",
      FAL_KEY: fal.apiKey,
      FAL_BASE_URL: fal.url,
      PLATFORM_EMAIL_FROM: "VPS Claude <billing@platform.test>",
    },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "600000" },
  });
  const signedIn = await signedInClient(server);
  owner = signedIn.client;
  ownerEmail = signedIn.user.email;
  const created = await owner.post("/rpc/box", { name: "Budgeted" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  const other = await owner.post("/rpc/box", { name: "Other" });
  otherBoxId = String(other.body.id);
  const ready = await waitFor(
    async () => (await owner.get(`/rpc/box/${boxId}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 180_000, what: "the box to deploy" },
  );
  if (ready.status !== "running") {
    throw new Error(`box did not deploy: ${JSON.stringify(ready)}`);
  }
}, 240_000);

afterAll(async () => {
  await server?.close();
  await fake?.close();
  await fal?.close();
});

async function startRun(message: string): Promise<string> {
  const res = await owner.post(`/rpc/box/${boxId}/runs`, { message });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return String(res.body.runId);
}

/** Runs one chat message to its end; `upstreamRequests` is how many model requests reached the fake API meanwhile. */
async function runToEnd(message: string) {
  const requestsBefore = fake.messageRequests().length;
  const runId = await startRun(message);
  await waitFor(
    async () => (await owner.get(`/rpc/box/${boxId}/runs/${runId}`)).body,
    (run) => !["queued", "running"].includes(String(run.status)),
    { timeout: 180_000, what: `run ${runId} to end` },
  );
  const [row] = await server.deps.db.select().from(boxRun).where(eq(boxRun.id, runId));
  if (!row) {
    throw new Error(`run ${runId} has no row`);
  }
  // The cases run one at a time, so whatever reached the fake API meanwhile was this run's.
  return { ...row, upstreamRequests: fake.messageRequests().length - requestsBefore };
}

async function budget() {
  const res = await owner.get("/rpc/budget");
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as unknown as {
    monthlyUsd: number | null;
    effectiveMonthlyUsd: number | null;
    spentUsd: number;
    alerts: { scope: string; threshold: number }[];
  };
}

async function ownerMail(): Promise<{ from: string; to: string[]; subject: string }[]> {
  const dir = join(server.dataDir, "outbox");
  const files = (await readdir(dir).catch(() => [] as string[])).filter((file) => file.endsWith(".json"));
  const entries = await Promise.all(
    files.map(async (file) => JSON.parse(await readFile(join(dir, file), "utf8"))),
  );
  return entries.filter((entry) => entry.to.includes(ownerEmail));
}

/** One model request straight at the gateway with a box's token, as Claude Code sends it. */
async function gatewayRequest(forBoxId: string) {
  const token = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId: forBoxId });
  const res = await fetch(`${server.url}/box/llm/v1/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": String(token),
      "anthropic-version": "2023-06-01",
    },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      max_tokens: 64,
      messages: [{ role: "user", content: `hello from ${forBoxId}` }],
    }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { type: string; error?: { type: string; message: string } },
  };
}

describe("budgets stop spend", () => {
  let spentAfterFirstRun = 0;

  it(
    "a run's tokens are spend: the budget shows it",
    async () => {
      const run = await runToEnd("Say hello.");
      expect(run.status, String(run.error)).toBe("completed");
      expect(run.upstreamRequests).toBeGreaterThan(0);
      const after = await waitFor(budget, (b) => b.spentUsd > 0, { what: "the run's spend in the budget" });
      spentAfterFirstRun = after.spentUsd;
      // 1,234 input, 567 output and 89 cache-read tokens of Sonnet per turn: about 1.2 cents each.
      expect(spentAfterFirstRun).toBeGreaterThan(0.01);
      expect(after.monthlyUsd).toBeNull();
      expect(after.effectiveMonthlyUsd).toBeNull();
    },
    RUN_TEST_TIMEOUT_MS,
  );

  it(
    "a cap below the spend: the next run fails with the budget's message and the API gets no request",
    async () => {
      const set = await owner.put("/rpc/budget", { monthlyUsd: 0.01 });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      expect(set.body).toMatchObject({ monthlyUsd: 0.01, effectiveMonthlyUsd: 0.01 });

      const run = await runToEnd("Say hello again.");
      expect(run.status).toBe("failed");
      expect(run.error).toContain("monthly budget reached: $0.01 of $0.01; raise it in Settings → Usage");
      expect(run.upstreamRequests).toBe(0);
    },
    RUN_TEST_TIMEOUT_MS,
  );

  it("the 80 % and 100 % alerts each reach the owner once, from the platform's address", async () => {
    const mail = await waitFor(ownerMail, (entries) => entries.length >= 2, {
      timeout: 60_000,
      what: "two budget alerts in the outbox",
    });
    // More refused requests after both alerts add none.
    for (let i = 0; i < 3; i++) {
      expect((await gatewayRequest(boxId)).status).toBe(402);
    }
    const alerts = await server.deps.db.select().from(budgetAlert).where(eq(budgetAlert.scope, "user"));
    expect(alerts.map((alert) => alert.threshold).sort((a, b) => a - b)).toEqual([80, 100]);
    expect(await ownerMail()).toHaveLength(2);
    expect(mail.every((entry) => entry.from === "VPS Claude <billing@platform.test>")).toBe(true);
    const spent = spentAfterFirstRun.toFixed(2);
    expect(mail.map((entry) => entry.subject).sort()).toEqual([
      `80% of your monthly budget used: $${spent} of $0.01`,
      `Monthly budget reached: $${spent} of $0.01`,
    ]);
    expect((await budget()).alerts.map((alert) => alert.threshold)).toEqual([80, 100]);
  });

  it("the gateway's refusal is the API's error shape: a 402 billing_error Claude shows and does not retry", async () => {
    const refused = await gatewayRequest(boxId);
    expect(refused).toEqual({
      status: 402,
      body: {
        type: "error",
        error: {
          type: "billing_error",
          message: "monthly budget reached: $0.01 of $0.01; raise it in Settings → Usage",
        },
      },
    });
  });

  it("a media call over the cap is refused before any provider is asked", async () => {
    const token = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId });
    const boxClient = new TestClient(server, { "x-box-secret": String(token) });
    const res = await boxClient.post("/box/ai/generate-image", { prompt: "a lighthouse" });
    expect(res.status, JSON.stringify(res.body)).toBe(402);
    expect(res.body).toMatchObject({
      code: "PAYMENT_REQUIRED",
      message: "monthly budget reached: $0.01 of $0.01; raise it in Settings → Usage",
    });
    expect(fal.requests).toEqual([]);
  });

  it(
    "raising the cap lets the next run through",
    async () => {
      const set = await owner.put("/rpc/budget", { monthlyUsd: 5 });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      const run = await runToEnd("Say hello once more.");
      expect(run.status, String(run.error)).toBe("completed");
      expect(run.upstreamRequests).toBeGreaterThan(0);
    },
    RUN_TEST_TIMEOUT_MS,
  );

  it("a box's cap stops that box only", async () => {
    const set = await owner.put(`/rpc/box/${boxId}/budget`, { monthlyUsd: 0.01 });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ boxId, monthlyUsd: 0.01 });
    expect(Number(set.body.spentUsd)).toBeGreaterThan(0.01);

    const before = fake.messageRequests().length;
    const capped = await gatewayRequest(boxId);
    expect(capped.status).toBe(402);
    expect(capped.body.error?.message).toMatch(
      /^monthly budget of box "Budgeted" reached: \$0\.0\d of \$0\.01; raise it in Settings → Usage$/,
    );
    expect(fake.messageRequests()).toHaveLength(before);

    const other = await gatewayRequest(otherBoxId);
    expect(other.status, JSON.stringify(other.body)).toBe(200);
    expect(fake.messageRequests()).toHaveLength(before + 1);

    const cleared = await owner.put(`/rpc/box/${boxId}/budget`, { monthlyUsd: null });
    expect(cleared.body).toMatchObject({ monthlyUsd: null });
    expect((await gatewayRequest(boxId)).status).toBe(200);
  });

  it("another user sees none of the owner's budgets, and cannot set a box's", async () => {
    const stranger = (await signedInClient(server)).client;
    const theirs = await stranger.get("/rpc/budget");
    expect(theirs.body).toMatchObject({ monthlyUsd: null, spentUsd: 0, alerts: [] });
    expect((await stranger.get(`/rpc/box/${boxId}/budget`)).status).toBe(404);
    expect((await stranger.put(`/rpc/box/${boxId}/budget`, { monthlyUsd: 0 })).status).toBe(404);
    expect((await owner.get(`/rpc/box/${boxId}/budget`)).body).toMatchObject({ monthlyUsd: null });
  });
});

describe("per-run limits from the agent config", () => {
  it(
    "maxTurns reaches Claude: a run that would take two turns stops after one",
    async () => {
      const set = await owner.post(`/rpc/box/${boxId}/agent-config`, {
        triggerType: "session",
        maxTurns: 1,
        maxBudgetUsd: 2.5,
      });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      expect(set.body).toMatchObject({ maxTurns: 1, maxBudgetUsd: 2.5 });

      const run = await runToEnd("USE A TOOL, then answer.");
      expect(run.dispatch.agent).toMatchObject({ maxTurns: 1, maxBudgetUsd: 2.5 });
      expect(run.status).toBe("failed");
      expect(run.error).toContain("maximum number of turns (1)");

      const cleared = await owner.post(`/rpc/box/${boxId}/agent-config`, {
        triggerType: "session",
        maxTurns: null,
        maxBudgetUsd: null,
      });
      expect(cleared.body).toMatchObject({ maxTurns: null, maxBudgetUsd: null });
    },
    RUN_TEST_TIMEOUT_MS,
  );
});
