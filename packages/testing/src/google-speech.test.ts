import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeGoogleSpeech, startFakeGoogleSpeech } from "./google-speech";
import { createWav } from "./media";

let fake: FakeGoogleSpeech;

beforeEach(async () => {
  fake = await startFakeGoogleSpeech();
});

afterEach(async () => {
  await fake.close();
});

function recognize(body: unknown, { key = fake.apiKey, inQuery = false } = {}) {
  const url = `${fake.url}/v1/speech:recognize${inQuery ? `?key=${key}` : ""}`;
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(inQuery ? {} : { "x-goog-api-key": key }) },
    body: JSON.stringify(body),
  });
}

interface RecognizeBody {
  results?: { alternatives: { transcript: string; confidence: number }[] }[];
  totalBilledTime?: string;
  error?: { code: number; message: string; status: string };
}

async function read(res: Response): Promise<RecognizeBody> {
  return (await res.json()) as RecognizeBody;
}

const wav = (seconds: number) => createWav({ seconds, sampleRate: 16_000 }).toString("base64");
const config = { encoding: "LINEAR16", sampleRateHertz: 16_000, languageCode: "en-US" };

describe("fake Google Speech-to-Text", () => {
  it("transcribes base64 audio with the key in a header or in ?key=", async () => {
    const res = await recognize({ config, audio: { content: wav(2) } });
    const body = await read(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.results?.[0]?.alternatives[0]).toEqual({
      transcript: "hello from the fake google speech api",
      confidence: 0.93,
    });
    expect(body.totalBilledTime).toBe("2s");
    expect(fake.recognitions[0]?.durationSeconds).toBe(2);
    expect(fake.recognitions[0]?.config.languageCode).toBe("en-US");

    fake.setAlternatives([{ transcript: "custom", confidence: 0.5 }]);
    const viaQuery = await recognize({ config, audio: { content: wav(1) } }, { inQuery: true });
    expect((await read(viaQuery)).results?.[0]?.alternatives[0]?.transcript).toBe("custom");

    fake.setAlternatives([]);
    const silent = await read(await recognize({ config, audio: { content: wav(1) } }));
    expect(silent.results).toBeUndefined();
  });

  it("rejects what Google rejects", async () => {
    const noKey = await fetch(`${fake.url}/v1/speech:recognize`, { method: "POST", body: "{}" });
    expect(noKey.status).toBe(403);
    const badKey = await recognize({ config, audio: { content: wav(1) } }, { key: "nope" });
    expect(badKey.status).toBe(400);
    expect((await read(badKey)).error?.message).toContain("API key not valid");

    const tooLong = await recognize({ config, audio: { content: wav(61) } });
    expect(tooLong.status).toBe(400);
    expect((await read(tooLong)).error).toMatchObject({
      status: "INVALID_ARGUMENT",
      message: /Sync input too long/,
    });

    const noLanguage = await recognize({ config: { encoding: "MP3" }, audio: { content: "AAAA" } });
    expect(noLanguage.status).toBe(400);
    const badEncoding = await recognize({
      config: { ...config, encoding: "WAV" },
      audio: { content: "AAAA" },
    });
    expect((await read(badEncoding)).error?.message).toContain("config.encoding");
    expect(fake.recognitions).toHaveLength(0);
  });

  it("fails as instructed", async () => {
    fake.failNext({ status: 503 });
    const res = await recognize({ config, audio: { content: wav(1) } });
    expect(res.status).toBe(503);
    expect((await read(res)).error?.status).toBe("UNAVAILABLE");
    expect((await recognize({ config, audio: { content: wav(1) } })).status).toBe(200);
  });
});
