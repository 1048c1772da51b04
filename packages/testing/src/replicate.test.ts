import Replicate from "replicate";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeReplicate, startFakeReplicate } from "./replicate";

let fake: FakeReplicate;
let replicate: Replicate;

beforeEach(async () => {
  fake = await startFakeReplicate();
  replicate = new Replicate({ auth: fake.apiToken, baseUrl: fake.baseUrl, useFileOutput: false });
});

afterEach(async () => {
  await fake.close();
});

const poll = { mode: "poll", interval: 5 } as const;

describe("fake Replicate", () => {
  it("runs black-forest-labs/flux-schnell by model name and serves the image", async () => {
    const output = (await replicate.run("black-forest-labs/flux-schnell", {
      input: { prompt: "a fox", num_outputs: 2, aspect_ratio: "16:9" },
      wait: poll,
    })) as string[];
    expect(output).toHaveLength(2);
    const image = await fetch(output[0] ?? "");
    expect(image.headers.get("content-type")).toBe("image/png");
    const bytes = Buffer.from(await image.arrayBuffer());
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([1344, 768]);

    const [create, ...rest] = fake.requests;
    expect(`${create?.method} ${create?.path}`).toBe(
      "POST /v1/models/black-forest-labs/flux-schnell/predictions",
    );
    expect(create?.headers.authorization).toBe(`Bearer ${fake.apiToken}`);
    expect(create?.headers.prefer).toBeUndefined();
    const id = fake.predictions[0]?.id;
    expect(rest.slice(0, 2).map((request) => request.path)).toEqual([
      `/v1/predictions/${id}`,
      `/v1/predictions/${id}`,
    ]);
    expect(fake.predictions[0]?.status).toBe("succeeded");
  });

  it("runs lucataco/xtts-v2 by version and returns a WAV URL", async () => {
    const version = fake.models.get("lucataco/xtts-v2")?.version;
    const output = await replicate.run(`lucataco/xtts-v2:${version}`, {
      input: {
        text: "Hello there, this is a test.",
        speaker: "https://example.org/voice.wav",
        language: "en",
      },
      wait: poll,
    });
    expect(typeof output).toBe("string");
    const audio = Buffer.from(await (await fetch(String(output))).arrayBuffer());
    expect(audio.subarray(0, 4).toString()).toBe("RIFF");
    expect(audio.subarray(8, 12).toString()).toBe("WAVE");
    expect(fake.requests[0]?.path).toBe("/v1/predictions");
    expect(fake.predictions[0]?.model).toBe("lucataco/xtts-v2");
  });

  it("runs openai/whisper with an uploaded Buffer and a custom transcription", async () => {
    fake.setOutput("openai/whisper", (input) => ({
      transcription: "custom words",
      segments: [],
      detected_language: "english",
      audio_seen: input.audio,
    }));
    const version = fake.models.get("openai/whisper")?.version;
    const output = (await replicate.run(`openai/whisper:${version}`, {
      input: { audio: Buffer.from("RIFF....WAVEfake audio bytes"), language: "auto" },
      wait: poll,
    })) as { transcription: string; audio_seen: string };
    expect(output.transcription).toBe("custom words");
    expect(fake.uploadedFiles).toHaveLength(1);
    expect(fake.uploadedFiles[0]?.content.toString()).toBe("RIFF....WAVEfake audio bytes");
    expect(output.audio_seen).toBe(`${fake.baseUrl}/files/${fake.uploadedFiles[0]?.id}`);
  });

  it("returns the default whisper shape", async () => {
    const version = fake.models.get("openai/whisper")?.version;
    const output = (await replicate.run(`openai/whisper:${version}`, {
      input: { audio: "https://example.org/a.mp3" },
      wait: poll,
    })) as { transcription: string; segments: unknown[]; detected_language: string };
    expect(output.transcription).toContain("fake Replicate whisper");
    expect(output.segments).toHaveLength(1);
    expect(output.detected_language).toBe("english");
  });

  it("reproduces block mode returning null when the sync wait times out", async () => {
    fake.blockingWaitCompletes = false;
    const output = await replicate.run("black-forest-labs/flux-schnell", { input: { prompt: "x" } });
    expect(output).toBeNull();
    expect(fake.requests[0]?.headers.prefer).toBe("wait");

    fake.blockingWaitCompletes = true;
    const blocked = await replicate.run("black-forest-labs/flux-schnell", { input: { prompt: "x" } });
    expect(blocked).toHaveLength(1);
  });

  it("rejects invalid input, bad tokens and unknown versions", async () => {
    await expect(
      replicate.run("black-forest-labs/flux-schnell", { input: { num_outputs: 1 }, wait: poll }),
    ).rejects.toMatchObject({
      response: { status: 422 },
      message: expect.stringContaining("prompt is required"),
    });

    const wrong = new Replicate({ auth: "r8_wrong", baseUrl: fake.baseUrl, useFileOutput: false });
    await expect(wrong.run("openai/whisper", { input: { audio: "x" }, wait: poll })).rejects.toMatchObject({
      response: { status: 401 },
    });

    await expect(
      replicate.run(`openai/whisper:${"0".repeat(64)}`, { input: { audio: "x" }, wait: poll }),
    ).rejects.toMatchObject({ response: { status: 422 } });
  });

  it("fails predictions and HTTP calls as instructed", async () => {
    fake.failNextPredictions("CUDA out of memory");
    await expect(
      replicate.run("black-forest-labs/flux-schnell", { input: { prompt: "x" }, wait: poll }),
    ).rejects.toThrow("Prediction failed: CUDA out of memory");

    // The SDK retries 429 on create and 5xx on GET by itself.
    fake.failNext({ status: 429 }, { stage: "create" });
    fake.failNext({ status: 503 }, { stage: "get" });
    const output = await replicate.run("black-forest-labs/flux-schnell", {
      input: { prompt: "x" },
      wait: poll,
    });
    expect(output).toHaveLength(1);

    fake.failNext({ status: 402, message: "You have insufficient credit" }, { stage: "create" });
    await expect(
      replicate.run("black-forest-labs/flux-schnell", { input: { prompt: "x" }, wait: poll }),
    ).rejects.toMatchObject({ response: { status: 402 } });
  });

  it("cancels a running prediction", async () => {
    fake.processingPolls = 100;
    const prediction = await replicate.predictions.create({
      model: "black-forest-labs/flux-schnell",
      input: { prompt: "x" },
    });
    expect(prediction.status).toBe("starting");
    const canceled = await replicate.predictions.cancel(prediction.id);
    expect(canceled.status).toBe("canceled");
  });
});
