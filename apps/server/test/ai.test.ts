import { getBoxToken } from "@vps-claude/api";
import { aiUsage } from "@vps-claude/db";
import {
  createWav,
  type FakeElevenLabs,
  type FakeFal,
  type FakeGoogleSpeech,
  type FakeReplicate,
  startFakeElevenLabs,
  startFakeFal,
  startFakeGoogleSpeech,
  startFakeReplicate,
} from "@vps-claude/testing";
import { desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, TestClient, type TestServer } from "./harness";

/**
 * The /box/ai routes end to end: the real provider clients (fal and Replicate SDKs, the thin
 * ElevenLabs and Google clients) against the fakes, configured through the server's own env vars.
 */

let fal: FakeFal;
let replicate: FakeReplicate;
let elevenLabs: FakeElevenLabs;
let google: FakeGoogleSpeech;
let server: TestServer;
let boxClient: TestClient;
let boxId: string;
let userId: string;

interface MediaAnswer {
  provider: string;
  files: { name: string; mimeType: string; base64: string }[];
  text?: string;
  costUsd: number;
  fallbackFrom: { provider: string; reason: string }[];
}

async function usageRows() {
  return server.deps.db
    .select()
    .from(aiUsage)
    .where(eq(aiUsage.boxId, boxId))
    .orderBy(desc(aiUsage.createdAt));
}

async function latestUsage() {
  const [row] = await usageRows();
  return row;
}

async function post(path: string, body: unknown) {
  const res = await boxClient.post(path, body);
  return {
    status: res.status,
    body: res.body as unknown as MediaAnswer & { message?: string },
    raw: res.body,
  };
}

beforeAll(async () => {
  [fal, replicate, elevenLabs, google] = await Promise.all([
    startFakeFal({ pollsBeforeCompleted: 0 }),
    startFakeReplicate({ processingPolls: 0 }),
    startFakeElevenLabs(),
    startFakeGoogleSpeech(),
  ]);
  server = await startTestServer({
    env: {
      FAL_KEY: fal.apiKey,
      FAL_BASE_URL: fal.url,
      REPLICATE_API_TOKEN: replicate.apiToken,
      REPLICATE_BASE_URL: replicate.url,
      ELEVENLABS_API_KEY: elevenLabs.apiKey,
      ELEVENLABS_BASE_URL: elevenLabs.url,
      GOOGLE_SPEECH_API_KEY: google.apiKey,
      GOOGLE_SPEECH_BASE_URL: google.url,
    },
  });
  const signedIn = await signedInClient(server);
  userId = signedIn.user.userId;
  const created = await signedIn.client.post("/rpc/box", { name: "Media" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  const token = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId });
  boxClient = new TestClient(server, { "x-box-secret": String(token) });
});

afterAll(async () => {
  await server?.close();
  await Promise.all([fal?.close(), replicate?.close(), elevenLabs?.close(), google?.close()]);
});

describe("POST /box/ai/generate-image", () => {
  it("generates through fal, stores the images and records the usage", async () => {
    const res = await post("/box/ai/generate-image", {
      prompt: "a lighthouse at dusk",
      size: "square",
      count: 2,
    });
    expect(res.status, JSON.stringify(res.raw)).toBe(200);
    expect(res.body.provider).toBe("fal");
    expect(res.body.fallbackFrom).toEqual([]);
    expect(res.body.costUsd).toBeCloseTo(0.05);
    expect(res.body.files).toHaveLength(2);

    const submission = fal.submissions.at(-1);
    expect(submission?.endpointId).toBe("fal-ai/flux/dev");
    expect(submission?.input).toMatchObject({
      prompt: "a lighthouse at dusk",
      image_size: "square",
      num_images: 2,
    });
    expect(submission?.headers.authorization).toBe(`Key ${fal.apiKey}`);

    for (const file of res.body.files) {
      expect(file.mimeType).toBe("image/png");
      expect(file.name).toMatch(/^usage_[a-z0-9]+-[12]\.png$/);
      const bytes = Buffer.from(file.base64, "base64");
      expect(bytes.subarray(1, 4).toString()).toBe("PNG");
      expect(bytes.readUInt32BE(16)).toBe(512);
      const stored = await server.deps.storage.get(`media/${boxId}/${file.name}`);
      expect(stored?.equals(bytes), "stored bytes equal the returned ones").toBe(true);
    }

    const row = await latestUsage();
    expect(row).toMatchObject({
      userId,
      boxId,
      provider: "fal",
      capability: "image",
      units: 2,
      unit: "image",
      costUsd: 0.05,
    });
  });

  it("falls back to Replicate when fal answers 500", async () => {
    fal.failNext({ status: 500 }, { stage: "submit" });
    const res = await post("/box/ai/generate-image", { prompt: "a red fox", size: "landscape_16_9" });
    expect(res.status, JSON.stringify(res.raw)).toBe(200);
    expect(res.body.provider).toBe("replicate");
    expect(res.body.fallbackFrom).toHaveLength(1);
    expect(res.body.fallbackFrom[0]?.provider).toBe("fal");
    expect(res.body.fallbackFrom[0]?.reason).toContain("500");
    expect(res.body.files).toHaveLength(1);

    const prediction = replicate.predictions.at(-1);
    expect(prediction?.model).toBe("black-forest-labs/flux-schnell");
    expect(prediction?.input).toMatchObject({ prompt: "a red fox", aspect_ratio: "16:9", num_outputs: 1 });
    const bytes = Buffer.from(res.body.files[0]?.base64 ?? "", "base64");
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([1344, 768]);

    expect(await latestUsage()).toMatchObject({
      provider: "replicate",
      units: 1,
      unit: "image",
      costUsd: 0.003,
    });
  });

  it("falls back to Replicate when fal rejects the request (422)", async () => {
    fal.failNextRequests({
      status: 422,
      detail: [{ loc: ["body", "prompt"], msg: "prompt flagged", type: "value_error" }],
    });
    const res = await post("/box/ai/generate-image", { prompt: "a harbour" });
    expect(res.status, JSON.stringify(res.raw)).toBe(200);
    expect(res.body.provider).toBe("replicate");
    expect(res.body.fallbackFrom[0]).toMatchObject({ provider: "fal" });
    expect(res.body.fallbackFrom[0]?.reason).toContain("422");
  });

  it("answers 502 with each provider's reason when every provider fails, and bills nothing", async () => {
    const before = (await usageRows()).length;
    fal.failNext({ status: 500 }, { stage: "submit" });
    replicate.failNextPredictions("CUDA out of memory");
    const res = await post("/box/ai/generate-image", { prompt: "a storm" });
    expect(res.status, JSON.stringify(res.raw)).toBe(502);
    expect(res.body.message).toMatch(
      /^image generation failed on every provider: fal: .*500.*; replicate: .*CUDA out of memory/,
    );
    expect((await usageRows()).length).toBe(before);
  });

  it("refuses bad input with a message naming the field", async () => {
    const tooMany = await post("/box/ai/generate-image", { prompt: "x", count: 5 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toContain("count must be 1–4");
    const empty = await post("/box/ai/generate-image", { prompt: "   " });
    expect(empty.status).toBe(400);
    expect(empty.body.message).toContain("prompt must not be empty");
    const size = await post("/box/ai/generate-image", { prompt: "x", size: "huge" });
    expect(size.status).toBe(400);
    expect(size.body.message).toContain("size must be one of square_hd");
  });
});

describe("POST /box/ai/text-to-speech", () => {
  it("speaks through ElevenLabs with a premade voice by name", async () => {
    const res = await post("/box/ai/text-to-speech", { text: "Hello from the box.", voice: "George" });
    expect(res.status, JSON.stringify(res.raw)).toBe(200);
    expect(res.body.provider).toBe("elevenlabs");
    const synthesis = elevenLabs.syntheses.at(-1);
    expect(synthesis).toMatchObject({
      voiceId: "JBFqnCBsd6RMkjVDRZzb",
      modelId: "eleven_multilingual_v2",
      outputFormat: "mp3_44100_128",
      text: "Hello from the box.",
    });
    const [file] = res.body.files;
    expect(file?.mimeType).toBe("audio/mpeg");
    expect(file?.name).toMatch(/\.mp3$/);
    expect(Buffer.from(file?.base64 ?? "", "base64").equals(synthesis?.audio ?? Buffer.alloc(0))).toBe(true);
    expect(await server.deps.storage.get(`media/${boxId}/${file?.name}`)).toBeDefined();
    expect(await latestUsage()).toMatchObject({
      provider: "elevenlabs",
      capability: "text_to_speech",
      units: 19,
      unit: "character",
      costUsd: 0.0057,
    });
  });

  it("falls back to Replicate XTTS when ElevenLabs fails", async () => {
    elevenLabs.failNext({ status: 500 });
    const res = await post("/box/ai/text-to-speech", { text: "Fallback speech." });
    expect(res.status, JSON.stringify(res.raw)).toBe(200);
    expect(res.body.provider).toBe("replicate");
    expect(res.body.fallbackFrom[0]?.reason).toContain("ElevenLabs answered HTTP 500");
    expect(replicate.predictions.at(-1)?.model).toBe("lucataco/xtts-v2");
    expect(res.body.files[0]?.mimeType).toBe("audio/wav");
    expect(res.body.files[0]?.name).toMatch(/\.wav$/);
    expect(await latestUsage()).toMatchObject({
      provider: "replicate",
      capability: "text_to_speech",
      units: 16,
    });
  });

  it("refuses text over 5000 characters", async () => {
    const res = await post("/box/ai/text-to-speech", { text: "a".repeat(5001) });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain("at most 5000 characters");
  });
});

describe("POST /box/ai/speech-to-text", () => {
  const wav = createWav({ seconds: 2, sampleRate: 16_000 });

  it("transcribes through Google Speech", async () => {
    const res = await post("/box/ai/speech-to-text", {
      audioBase64: wav.toString("base64"),
      mimeType: "audio/wav",
      language: "en-GB",
    });
    expect(res.status, JSON.stringify(res.raw)).toBe(200);
    expect(res.body).toMatchObject({
      provider: "google",
      text: "hello from the fake google speech api",
      files: [],
    });
    const recognition = google.recognitions.at(-1);
    expect(recognition?.config).toMatchObject({ encoding: "LINEAR16", languageCode: "en-GB" });
    expect(recognition?.audio.equals(wav)).toBe(true);
    expect(await latestUsage()).toMatchObject({
      provider: "google",
      capability: "speech_to_text",
      units: 2,
      unit: "second",
      costUsd: 0.0008,
    });
  });

  it("falls back to Replicate Whisper when Google fails", async () => {
    google.failNext({ status: 503 });
    const res = await post("/box/ai/speech-to-text", {
      audioBase64: wav.toString("base64"),
      mimeType: "audio/x-wav",
    });
    expect(res.status, JSON.stringify(res.raw)).toBe(200);
    expect(res.body.provider).toBe("replicate");
    expect(res.body.text).toBe("Hello from the fake Replicate whisper model.");
    expect(res.body.fallbackFrom[0]?.reason).toContain("Google Speech answered HTTP 503");
    expect(replicate.predictions.at(-1)?.model).toBe("openai/whisper");
    expect(replicate.uploadedFiles.at(-1)?.content.equals(wav)).toBe(true);
    expect(await latestUsage()).toMatchObject({
      provider: "replicate",
      capability: "speech_to_text",
      units: 2,
    });
  });

  it("refuses what is not audio", async () => {
    const notAudio = await post("/box/ai/speech-to-text", {
      audioBase64: "aGVsbG8=",
      mimeType: "text/plain",
    });
    expect(notAudio.status).toBe(400);
    expect(notAudio.body.message).toContain("mimeType must be an audio type");
    const badBase64 = await post("/box/ai/speech-to-text", {
      audioBase64: "not base64!",
      mimeType: "audio/wav",
    });
    expect(badBase64.status).toBe(400);
    expect(badBase64.body.message).toContain("audioBase64 must be standard base64");
    const empty = await post("/box/ai/speech-to-text", { audioBase64: "", mimeType: "audio/wav" });
    expect(empty.status).toBe(400);
    expect(empty.body.message).toContain("the audio is empty");
  });
});

describe("limits", () => {
  it("answers 429 once the box used its hourly budget", async () => {
    const used = (await usageRows()).length;
    const budget = server.deps.ai.callsPerHour;
    server.deps.ai.callsPerHour = used;
    try {
      const res = await post("/box/ai/generate-image", { prompt: "one more" });
      expect(res.status, JSON.stringify(res.raw)).toBe(429);
      expect(res.body.message).toContain(`made ${used} media calls in the last hour`);
    } finally {
      server.deps.ai.callsPerHour = budget;
    }
  });
});

describe("with no provider configured", () => {
  let bare: TestServer;
  let bareBox: TestClient;

  beforeAll(async () => {
    bare = await startTestServer();
    const { client } = await signedInClient(bare);
    const created = await client.post("/rpc/box", { name: "Bare" });
    const token = await getBoxToken({
      db: bare.deps.db,
      keyring: bare.deps.keyring,
      boxId: String(created.body.id),
    });
    bareBox = new TestClient(bare, { "x-box-secret": String(token) });
  });
  afterAll(async () => {
    await bare?.close();
  });

  it.each([
    [
      "/box/ai/generate-image",
      { prompt: "x" },
      "image generation is not configured: set FAL_KEY or REPLICATE_API_TOKEN",
    ],
    [
      "/box/ai/text-to-speech",
      { text: "x" },
      "text to speech is not configured: set ELEVENLABS_API_KEY or REPLICATE_API_TOKEN",
    ],
    [
      "/box/ai/speech-to-text",
      { audioBase64: "UklGRg==", mimeType: "audio/wav" },
      "speech to text is not configured: set GOOGLE_SPEECH_API_KEY or REPLICATE_API_TOKEN",
    ],
  ])("%s answers 503 and says what to set", async (path, body, message) => {
    const res = await bareBox.post(path, body);
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.message).toBe(message);
  });
});
