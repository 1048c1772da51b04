import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ELEVENLABS_VOICES, type FakeElevenLabs, startFakeElevenLabs } from "./elevenlabs";

let fake: FakeElevenLabs;

beforeEach(async () => {
  fake = await startFakeElevenLabs();
});

afterEach(async () => {
  await fake.close();
});

const voiceId = DEFAULT_ELEVENLABS_VOICES[0]?.voice_id ?? "";

/** The thin client the reference recommends: one POST, audio bytes back. */
function tts(body: unknown, { key = fake.apiKey, voice = voiceId, format = "mp3_44100_128" } = {}) {
  return fetch(`${fake.url}/v1/text-to-speech/${voice}?output_format=${format}`, {
    method: "POST",
    headers: { "xi-api-key": key, "content-type": "application/json", accept: "audio/mpeg" },
    body: JSON.stringify(body),
  });
}

describe("fake ElevenLabs", () => {
  it("answers MP3 bytes and records the request", async () => {
    const res = await tts({
      text: "Hello world, this is thirty.",
      model_id: "eleven_multilingual_v2",
      voice_settings: { stability: 0.5, similarity_boost: 0.75 },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect(res.headers.get("x-character-count")).toBe("28");
    const audio = Buffer.from(await res.arrayBuffer());
    expect(audio[0]).toBe(0xff);
    expect((audio[1] ?? 0) & 0xe0).toBe(0xe0);
    expect(fake.syntheses).toHaveLength(1);
    expect(fake.syntheses[0]).toMatchObject({
      voiceId,
      outputFormat: "mp3_44100_128",
      modelId: "eleven_multilingual_v2",
      voiceSettings: { stability: 0.5, similarity_boost: 0.75 },
    });
    expect(fake.syntheses[0]?.audio.equals(audio)).toBe(true);
  });

  it("answers PCM for pcm_16000 and custom audio when set", async () => {
    const pcm = await tts({ text: "x".repeat(30) }, { format: "pcm_16000" });
    expect(pcm.headers.get("content-type")).toBe("audio/pcm");
    expect((await pcm.arrayBuffer()).byteLength).toBe(2 * 16_000 * 2);
    fake.setAudio(Buffer.from("ID3 custom"));
    const custom = await tts({ text: "hi" });
    expect(Buffer.from(await custom.arrayBuffer()).toString()).toBe("ID3 custom");
  });

  it("checks the key, the voice and the body", async () => {
    expect((await tts({ text: "hi" }, { key: "nope" })).status).toBe(401);
    const unknownVoice = await tts({ text: "hi" }, { voice: "nope" });
    expect(unknownVoice.status).toBe(404);
    expect(await unknownVoice.json()).toMatchObject({ detail: { status: "voice_not_found" } });
    const missing = await tts({ model_id: "eleven_multilingual_v2" });
    expect(missing.status).toBe(422);
    expect(await missing.json()).toMatchObject({ detail: [{ loc: ["body", "text"] }] });
    expect((await tts({ text: "hi", model_id: "eleven_nope" })).status).toBe(400);
    expect((await tts({ text: "hi", voice_settings: { stability: 3 } })).status).toBe(422);
    expect(fake.syntheses).toHaveLength(0);
  });

  it("fails as instructed", async () => {
    fake.failNext({ status: 429 }, 2);
    const first = await tts({ text: "hi" });
    expect(first.status).toBe(429);
    expect(await first.json()).toMatchObject({ detail: { status: "too_many_concurrent_requests" } });
    expect((await tts({ text: "hi" })).status).toBe(429);
    expect((await tts({ text: "hi" })).status).toBe(200);
    fake.failNext({ drop: true });
    await expect(tts({ text: "hi" })).rejects.toThrow("fetch failed");
  });
});
