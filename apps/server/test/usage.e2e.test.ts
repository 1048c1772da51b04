import { getBoxToken, priceOf } from "@vps-claude/api";
import {
  type AnthropicRequest,
  createWav,
  type FakeAnthropic,
  type FakeElevenLabs,
  type FakeFal,
  type FakeGoogleSpeech,
  startFakeAnthropic,
  startFakeElevenLabs,
  startFakeFal,
  startFakeGoogleSpeech,
} from "@vps-claude/testing";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, TestClient, type TestServer, waitFor } from "./harness";

/**
 * The money ledger end to end, on the real stack: a box deployed into sprites-local, the BullMQ
 * workers, the real Claude CLI in the box going through the model gateway to a fake Messages API
 * that reports known usage on every turn, the SMTP listener, and the media routes against the media
 * fakes. After a chat run, an email run and a cron run and three media calls, `/rpc/usage` must show
 * exactly the tokens the fake reported and the cost the price table gives, per trigger and per box;
 * each run and the cron execution show their own.
 */

/** What the fake Messages API reports for every turn. */
const PER_TURN = { input_tokens: 1_234, output_tokens: 567, cache_read_input_tokens: 89 };
const RUN_TIMEOUT_MS = 150_000;

let fake: FakeAnthropic;
let fal: FakeFal;
let elevenLabs: FakeElevenLabs;
let google: FakeGoogleSpeech;
let server: TestServer;
let owner: TestClient;
let stranger: TestClient;
let agentBox: { id: string; name: string; email: string };
let mediaBox: { id: string; name: string };

interface UsageTotals {
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  mediaCalls: number;
  modelRequests: number;
  unpricedEntries: number;
}
type UsageRow = UsageTotals & {
  day: string | null;
  boxId: string | null;
  boxName: string | null;
  model: string | null;
  trigger: string | null;
};
interface UsageReport {
  totals: UsageTotals;
  rows: UsageRow[];
}
interface RunBody {
  id: string;
  status: string;
  trigger: string;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
}

/** What one trigger's turns should add up to: the fake's usage times the turns, priced per request's model. */
interface Expected {
  turns: number;
  costUsd: number;
}

const expected: Record<"chat" | "email" | "cron", Expected> = {
  chat: { turns: 0, costUsd: 0 },
  email: { turns: 0, costUsd: 0 },
  cron: { turns: 0, costUsd: 0 },
};
const runIds: Record<keyof typeof expected, string> = { chat: "", email: "", cron: "" };
let cronExecution: { id: string; cronjobId: string };
let mediaCostUsd = 0;

/** USD summed the way the ledger keeps it (micro-dollars), so the comparison with Postgres' sum is exact. */
const usd = (values: number[]) => Math.round(values.reduce((sum, value) => sum + value * 1e6, 0)) / 1e6;

function turnCost(request: AnthropicRequest): number {
  const { costUsd } = priceOf({
    kind: "model",
    provider: "anthropic",
    model: typeof request.body.model === "string" ? request.body.model : null,
    tokens: {
      inputTokens: PER_TURN.input_tokens,
      outputTokens: PER_TURN.output_tokens,
      cacheReadTokens: PER_TURN.cache_read_input_tokens,
      cacheWriteTokens: 0,
    },
  });
  if (costUsd === null) {
    throw new Error(`the price table has no price for the CLI's model '${String(request.body.model)}'`);
  }
  return costUsd;
}

/** Runs `work` and books the model requests the fake received meanwhile under `trigger`. */
async function countingTurns(trigger: keyof typeof expected, work: () => Promise<string>): Promise<void> {
  const before = fake.messageRequests().length;
  runIds[trigger] = await work();
  const turns = fake.messageRequests().slice(before);
  expect(turns.length, `the ${trigger} run reached the model`).toBeGreaterThan(0);
  expected[trigger] = { turns: turns.length, costUsd: usd(turns.map(turnCost)) };
}

const getRun = async (runId: string) => {
  const res = await owner.get(`/rpc/box/${agentBox.id}/runs/${runId}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as unknown as RunBody;
};

async function waitRunEnded(runId: string): Promise<RunBody> {
  const run = await waitFor(
    () => getRun(runId),
    (body) => !["queued", "running"].includes(body.status),
    { timeout: RUN_TIMEOUT_MS, interval: 300, what: `run ${runId} to end` },
  );
  expect(run.status, JSON.stringify(run)).toBe("completed");
  return run;
}

async function usage(client: TestClient, query: string): Promise<UsageReport> {
  const res = await client.get(`/rpc/usage?${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as unknown as UsageReport;
}

const modelRequests = () => expected.chat.turns + expected.email.turns + expected.cron.turns;
const tokensOf = (turns: number) => ({
  inputTokens: turns * PER_TURN.input_tokens,
  outputTokens: turns * PER_TURN.output_tokens,
  cacheReadTokens: turns * PER_TURN.cache_read_input_tokens,
  cacheWriteTokens: 0,
});

beforeAll(async () => {
  fake = await startFakeAnthropic({
    usage: PER_TURN,
    respond: (conversation) => `Noted: ${conversation.lastUserText() ?? ""}`,
  });
  [fal, elevenLabs, google] = await Promise.all([
    startFakeFal({ pollsBeforeCompleted: 0 }),
    startFakeElevenLabs(),
    startFakeGoogleSpeech(),
  ]);
  server = await startTestServer({
    workers: true,
    sprites: true,
    smtp: true,
    env: {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: "sk-ant-test-platform-key",
      FAL_KEY: fal.apiKey,
      FAL_BASE_URL: fal.url,
      ELEVENLABS_API_KEY: elevenLabs.apiKey,
      ELEVENLABS_BASE_URL: elevenLabs.url,
      GOOGLE_SPEECH_API_KEY: google.apiKey,
      GOOGLE_SPEECH_BASE_URL: google.url,
    },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "600000" },
  });
  ({ client: owner } = await signedInClient(server));
  ({ client: stranger } = await signedInClient(server));
  const created = await owner.post("/rpc/box", { name: "Ledger agent" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  agentBox = { id: String(created.body.id), name: "Ledger agent", email: String(created.body.email) };
  // The media box needs no sandbox: its token is enough for the media routes.
  const media = await owner.post("/rpc/box", { name: "Ledger media" });
  expect(media.status, JSON.stringify(media.body)).toBe(201);
  mediaBox = { id: String(media.body.id), name: "Ledger media" };
  const status = await waitFor(
    async () => String((await owner.get(`/rpc/box/${agentBox.id}`)).body.status),
    (value) => value === "running" || value === "error",
    { timeout: 180_000, interval: 500, what: "the box to deploy" },
  );
  expect(status).toBe("running");

  await countingTurns("chat", async () => {
    const res = await owner.post(`/rpc/box/${agentBox.id}/runs`, { message: "How much do I cost? (chat)" });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const runId = String(res.body.runId);
    await waitRunEnded(runId);
    return runId;
  });

  await countingTurns("email", async () => {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: Number(server.smtpPort),
      ignoreTLS: true,
    });
    await transport.sendMail({
      from: "Alice <alice@example.com>",
      to: agentBox.email,
      subject: "What did I spend?",
      text: "Tell me by mail (email).",
      messageId: "<usage-e2e@example.com>",
    });
    const run = await waitFor(
      async () => {
        const res = await owner.get(`/rpc/box/${agentBox.id}/runs?trigger=email`);
        return (res.body as unknown as { runs: RunBody[] }).runs?.[0];
      },
      (found) => found !== undefined && !["queued", "running"].includes(found.status),
      { timeout: RUN_TIMEOUT_MS, interval: 300, what: "the email's run to end" },
    );
    expect(run?.status, JSON.stringify(run)).toBe("completed");
    return String(run?.id);
  });

  await countingTurns("cron", async () => {
    const cron = await owner.post(`/rpc/box/${agentBox.id}/cronjobs`, {
      name: "Spend check",
      // Next fire on 1 January: the tick comes from "run now".
      schedule: "0 0 1 1 *",
      prompt: "Check the spend (cron)",
    });
    expect(cron.status, JSON.stringify(cron.body)).toBe(201);
    const cronjobId = String(cron.body.id);
    const ran = await owner.post(`/rpc/box/${agentBox.id}/cronjobs/${cronjobId}/run`);
    expect(ran.status, JSON.stringify(ran.body)).toBe(202);
    const execution = await waitFor(
      async () => {
        const res = await owner.get(`/rpc/box/${agentBox.id}/cronjobs/${cronjobId}/executions`);
        return (res.body as unknown as { id: string; status: string; runId: string | null }[])[0];
      },
      (found) => found !== undefined && ["completed", "failed", "skipped"].includes(found.status),
      { timeout: RUN_TIMEOUT_MS, interval: 300, what: "the cron tick to end" },
    );
    expect(execution?.status, JSON.stringify(execution)).toBe("completed");
    cronExecution = { id: String(execution?.id), cronjobId };
    return String(execution?.runId);
  });

  const token = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId: mediaBox.id });
  const boxClient = new TestClient(server, { "x-box-secret": String(token) });
  const mediaCosts: number[] = [];
  const image = await boxClient.post("/box/ai/generate-image", { prompt: "a ledger", count: 2 });
  expect(image.status, JSON.stringify(image.body)).toBe(200);
  mediaCosts.push(
    Number(
      priceOf({
        kind: "media",
        provider: "fal",
        model: String(fal.submissions.at(-1)?.endpointId),
        capability: "image",
        units: 2,
        unit: "image",
      }).costUsd,
    ),
  );
  const text = "Your spend, read aloud.";
  const speech = await boxClient.post("/box/ai/text-to-speech", { text });
  expect(speech.status, JSON.stringify(speech.body)).toBe(200);
  mediaCosts.push(
    Number(
      priceOf({
        kind: "media",
        provider: "elevenlabs",
        model: String(elevenLabs.syntheses.at(-1)?.modelId),
        capability: "text_to_speech",
        units: text.length,
        unit: "character",
      }).costUsd,
    ),
  );
  const heard = await boxClient.post("/box/ai/speech-to-text", {
    audioBase64: createWav({ seconds: 2, sampleRate: 16_000 }).toString("base64"),
    mimeType: "audio/wav",
  });
  expect(heard.status, JSON.stringify(heard.body)).toBe(200);
  mediaCosts.push(
    Number(
      priceOf({
        kind: "media",
        provider: "google",
        model: "speech:recognize (v1)",
        capability: "speech_to_text",
        units: 2,
        unit: "second",
      }).costUsd,
    ),
  );
  expect(
    mediaCosts.every((cost) => cost > 0),
    `every media call has a price: ${mediaCosts.join()}`,
  ).toBe(true);
  mediaCostUsd = usd(mediaCosts);

  // The gateway writes its ledger entries in batches just after each response: wait for all of them.
  await waitFor(
    async () => (await usage(owner, "groupBy=box")).totals.modelRequests,
    (written) => written >= modelRequests(),
    { timeout: 30_000, what: `the ledger to hold ${modelRequests()} model requests` },
  );
}, 600_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([fake?.close(), fal?.close(), elevenLabs?.close(), google?.close()]);
});

describe("GET /rpc/usage", () => {
  it("per trigger: exactly the tokens the fake reported on each run's turns, at the price table's cost, media apart", async () => {
    const report = await usage(owner, "groupBy=trigger");
    const byTrigger = new Map(report.rows.map((row) => [row.trigger, row]));
    for (const trigger of ["chat", "email", "cron"] as const) {
      const { turns, costUsd } = expected[trigger];
      expect(byTrigger.get(trigger), trigger).toMatchObject({
        ...tokensOf(turns),
        modelRequests: turns,
        mediaCalls: 0,
        costUsd,
        unpricedEntries: 0,
        day: null,
        boxId: null,
        model: null,
      });
    }
    // Media calls made outside any run have no trigger.
    expect(byTrigger.get(null)).toMatchObject({
      mediaCalls: 3,
      modelRequests: 0,
      inputTokens: 0,
      costUsd: mediaCostUsd,
    });
    expect(report.rows).toHaveLength(4);
  });

  it("per box: the agent box's tokens and the media box's calls, with names, in the same totals", async () => {
    const report = await usage(owner, "groupBy=box");
    const modelCost = usd([expected.chat.costUsd, expected.email.costUsd, expected.cron.costUsd]);
    const byBox = new Map(report.rows.map((row) => [row.boxId, row]));
    expect(byBox.get(agentBox.id)).toMatchObject({
      boxName: agentBox.name,
      ...tokensOf(modelRequests()),
      modelRequests: modelRequests(),
      mediaCalls: 0,
      costUsd: modelCost,
    });
    expect(byBox.get(mediaBox.id)).toMatchObject({
      boxName: mediaBox.name,
      inputTokens: 0,
      mediaCalls: 3,
      costUsd: mediaCostUsd,
    });
    expect(report.rows).toHaveLength(2);
    expect(report.totals).toEqual({
      ...tokensOf(modelRequests()),
      modelRequests: modelRequests(),
      mediaCalls: 3,
      unpricedEntries: 0,
      costUsd: usd([modelCost, mediaCostUsd]),
    });
  });

  it("for one box, by day: today's row only, the same figures", async () => {
    const report = await usage(owner, `groupBy=day&boxId=${agentBox.id}`);
    const today = new Date().toISOString().slice(0, 10);
    expect(report.rows.map((row) => row.day)).toEqual([today]);
    expect(report.totals).toMatchObject({ ...tokensOf(modelRequests()), mediaCalls: 0 });
  });

  it("shows another user nothing of it, and another user's box as 404", async () => {
    const theirs = await usage(stranger, "groupBy=box");
    expect(theirs.rows).toEqual([]);
    expect(theirs.totals).toMatchObject({ costUsd: 0, inputTokens: 0, mediaCalls: 0, modelRequests: 0 });
    const probe = await stranger.get(`/rpc/usage?groupBy=day&boxId=${agentBox.id}`);
    expect(probe.status, JSON.stringify(probe.body)).toBe(404);
    expect(JSON.stringify(probe.body)).not.toContain("Ledger agent");
  });
});

describe("a run's own cost", () => {
  it.each(["chat", "email", "cron"] as const)(
    "the %s run shows the sum of its ledger entries",
    async (trigger) => {
      const { turns, costUsd } = expected[trigger];
      const run = await getRun(runIds[trigger]);
      expect(run, JSON.stringify(run)).toMatchObject({ trigger, ...tokensOf(turns), costUsd });
      const page = await owner.get(`/rpc/box/${agentBox.id}/runs?trigger=${trigger}`);
      const listed = (page.body as unknown as { runs: RunBody[] }).runs.find((item) => item.id === run.id);
      expect(listed).toMatchObject({ ...tokensOf(turns), costUsd });
    },
  );

  it("the cron execution shows its run's cost", async () => {
    const res = await owner.get(`/rpc/box/${agentBox.id}/cronjobs/${cronExecution.cronjobId}/executions`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [execution] = res.body as unknown as { id: string; runId: string; costUsd: number | null }[];
    expect(execution).toMatchObject({
      id: cronExecution.id,
      runId: runIds.cron,
      costUsd: expected.cron.costUsd,
    });
  });
});
