import { ProviderResponseError } from "./errors";
import { httpError } from "./http";
import { normalizeMimeType, wavDurationSeconds } from "./media";
import { audioUsage, PRICES } from "./prices";
import type { Provider, TranscriptionRequest, TranscriptionResult } from "./types";

export const GOOGLE_SPEECH_MODEL = "speech:recognize (v1)";

/**
 * Google reads the sample rate from WAV and FLAC headers; Opus containers are always 48 kHz.
 * Formats missing here (m4a, …) are left to the fallback.
 */
const ENCODINGS: Record<string, { encoding: string; sampleRateHertz?: number }> = {
  "audio/wav": { encoding: "LINEAR16" },
  "audio/flac": { encoding: "FLAC" },
  "audio/mpeg": { encoding: "MP3" },
  "audio/ogg": { encoding: "OGG_OPUS", sampleRateHertz: 48_000 },
  "audio/webm": { encoding: "WEBM_OPUS", sampleRateHertz: 48_000 },
};

/** Synchronous recognition takes at most one minute of audio. */
const SYNC_LIMIT_SECONDS = 60;

export interface GoogleSpeechOptions {
  apiKey: string;
  baseUrl?: string;
}

interface RecognizeResponse {
  results?: { alternatives?: { transcript?: unknown }[] }[];
  totalBilledTime?: unknown;
}

/** A thin REST client: the official SDK defaults to gRPC. */
export function createGoogleSpeechProvider(
  options: GoogleSpeechOptions,
): Provider<TranscriptionRequest, TranscriptionResult> {
  const base = (options.baseUrl ?? "https://speech.googleapis.com").replace(/\/+$/, "");
  return {
    name: "google",
    async run({ audio, mimeType, language }, signal) {
      const format = ENCODINGS[normalizeMimeType(mimeType)];
      if (!format) {
        throw new ProviderResponseError(`Google Speech does not take ${mimeType} audio`);
      }
      const duration = wavDurationSeconds(audio);
      if (duration !== undefined && duration > SYNC_LIMIT_SECONDS) {
        throw new ProviderResponseError(
          `the audio lasts ${Math.round(duration)} s; synchronous recognition takes at most ${SYNC_LIMIT_SECONDS} s`,
        );
      }
      const response = await fetch(`${base}/v1/speech:recognize`, {
        method: "POST",
        headers: { "x-goog-api-key": options.apiKey, "content-type": "application/json" },
        body: JSON.stringify({
          config: { ...format, languageCode: language ?? "en-US", enableAutomaticPunctuation: true },
          audio: { content: audio.toString("base64") },
        }),
        signal,
      });
      if (!response.ok) {
        throw await httpError("Google Speech", response);
      }
      const body = (await response.json()) as RecognizeResponse;
      const text = (body.results ?? [])
        .map((result) => result.alternatives?.[0]?.transcript)
        .filter((transcript): transcript is string => typeof transcript === "string")
        .map((transcript) => transcript.trim())
        .join(" ");
      const billed = /^(\d+(?:\.\d+)?)s$/.exec(String(body.totalBilledTime ?? ""))?.[1];
      const seconds = billed === undefined ? (duration ?? 0) : Number(billed);
      return {
        text,
        durationSeconds: duration ?? seconds,
        model: GOOGLE_SPEECH_MODEL,
        usage: audioUsage("google", seconds, PRICES.googleSpeechPerMinute),
      };
    },
  };
}
