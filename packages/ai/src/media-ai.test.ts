import {
  createSilentMp3,
  createWav,
  type FakeFal,
  type FakeGoogleSpeech,
  type FakeReplicate,
  startFakeFal,
  startFakeGoogleSpeech,
  startFakeReplicate,
} from "@vps-claude/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AiNotConfiguredError, AiProvidersFailedError } from "./errors";
import { createMediaAi } from "./media-ai";

let fal: FakeFal;
let replicate: FakeReplicate;
let google: FakeGoogleSpeech;

beforeEach(async () => {
  [fal, replicate, google] = await Promise.all([
    startFakeFal({ pollsBeforeCompleted: 0 }),
    startFakeReplicate({ processingPolls: 0 }),
    startFakeGoogleSpeech(),
  ]);
});

afterEach(async () => {
  await Promise.all([fal.close(), replicate.close(), google.close()]);
});

const pollIntervalMs = 10;

describe("createMediaAi", () => {
  it("names the variables to set when no provider of a capability is configured", async () => {
    const ai = createMediaAi({});
    expect(ai.providers).toEqual({ image: [], text_to_speech: [], speech_to_text: [] });
    await expect(ai.generateImage({ prompt: "x", size: "square", count: 1 })).rejects.toThrow(
      new AiNotConfiguredError("image", ["FAL_KEY", "REPLICATE_API_TOKEN"]),
    );
    await expect(ai.textToSpeech({ text: "x" })).rejects.toThrow(
      "text to speech is not configured: set ELEVENLABS_API_KEY or REPLICATE_API_TOKEN",
    );
  });

  it("skips an unconfigured primary and goes straight to Replicate", async () => {
    const ai = createMediaAi({
      replicate: { apiToken: replicate.apiToken, baseUrl: replicate.url },
      pollIntervalMs,
    });
    expect(ai.providers.image).toEqual(["replicate"]);
    const result = await ai.generateImage({ prompt: "a fox", size: "portrait_16_9", count: 3 });
    expect(result.fallbackFrom).toEqual([]);
    expect(result.images).toHaveLength(3);
    expect(result.usage).toEqual({ provider: "replicate", units: 3, unit: "image", costUsd: 0.009 });
    expect(replicate.predictions[0]?.input).toMatchObject({ aspect_ratio: "9:16", output_format: "png" });
  });

  it("rewrites fal's fixed hosts to FAL_BASE_URL", async () => {
    const ai = createMediaAi({ fal: { apiKey: fal.apiKey, baseUrl: `${fal.url}/` }, pollIntervalMs });
    const result = await ai.generateImage({ prompt: "a boat", size: "square_hd", count: 1 });
    expect(result.usage.provider).toBe("fal");
    expect(result.images[0]).toMatchObject({ mimeType: "image/png", extension: "png" });
    expect(fal.requests[0]?.path).toBe("/fal-ai/flux/dev");
  });

  it("falls back when the primary cannot be reached at all", async () => {
    const ai = createMediaAi({
      fal: { apiKey: fal.apiKey, baseUrl: "http://127.0.0.1:9" },
      replicate: { apiToken: replicate.apiToken, baseUrl: replicate.url },
      pollIntervalMs,
    });
    const result = await ai.generateImage({ prompt: "x", size: "square", count: 1 });
    expect(result.usage.provider).toBe("replicate");
    expect(result.fallbackFrom[0]?.provider).toBe("fal");
  });

  it("reports each provider's reason when all fail", async () => {
    fal.failNext({ status: 500, message: "GPU pool exhausted" }, { stage: "submit" });
    replicate.failNext({ status: 402, message: "You have insufficient credit" }, { stage: "create" });
    const ai = createMediaAi({
      fal: { apiKey: fal.apiKey, baseUrl: fal.url },
      replicate: { apiToken: replicate.apiToken, baseUrl: replicate.url },
      pollIntervalMs,
    });
    const error = await ai
      .generateImage({ prompt: "x", size: "square", count: 1 })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AiProvidersFailedError);
    const failures = (error as AiProvidersFailedError).failures;
    expect(failures.map((failure) => failure.provider)).toEqual(["fal", "replicate"]);
    expect(failures[1]?.reason).toContain("insufficient credit");
  });

  it("leaves audio Google cannot take to Whisper, and accounts seconds", async () => {
    const ai = createMediaAi({
      googleSpeech: { apiKey: google.apiKey, baseUrl: google.url },
      replicate: { apiToken: replicate.apiToken, baseUrl: replicate.url },
      pollIntervalMs,
    });
    const m4a = await ai.speechToText({ audio: createSilentMp3({ seconds: 1 }), mimeType: "audio/mp4" });
    expect(m4a.usage.provider).toBe("replicate");
    expect(m4a.fallbackFrom[0]?.reason).toContain("does not take audio/mp4");
    expect(m4a.usage).toMatchObject({ unit: "second", units: 2.5 });
    expect(google.recognitions).toHaveLength(0);

    const wav = await ai.speechToText({
      audio: createWav({ seconds: 30, sampleRate: 8000 }),
      mimeType: "audio/wav",
    });
    expect(wav.usage).toEqual({ provider: "google", units: 30, unit: "second", costUsd: 0.012 });
  });
});
