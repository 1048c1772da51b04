import { httpError } from "./http";
import { mediaFile } from "./media";
import { characterUsage, PRICES } from "./prices";
import type { Provider, SpeechRequest, SpeechResult } from "./types";

export const ELEVENLABS_MODEL = "eleven_multilingual_v2";
const OUTPUT_FORMAT = "mp3_44100_128";

/** Premade voices every account has, so a box may say "George" instead of an id. */
export const ELEVENLABS_VOICES: Record<string, string> = {
  rachel: "21m00Tcm4TlvDq8ikWAM",
  george: "JBFqnCBsd6RMkjVDRZzb",
};
export const ELEVENLABS_DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM";

export interface ElevenLabsOptions {
  apiKey: string;
  baseUrl?: string;
}

/** A thin client: the official SDK weighs 108 MB for this one POST. */
export function createElevenLabsProvider(options: ElevenLabsOptions): Provider<SpeechRequest, SpeechResult> {
  const base = (options.baseUrl ?? "https://api.elevenlabs.io").replace(/\/+$/, "");
  return {
    name: "elevenlabs",
    async run({ text, voice }, signal) {
      const voiceId = voice ? (ELEVENLABS_VOICES[voice.toLowerCase()] ?? voice) : ELEVENLABS_DEFAULT_VOICE;
      const response = await fetch(
        `${base}/v1/text-to-speech/${encodeURIComponent(voiceId)}?output_format=${OUTPUT_FORMAT}`,
        {
          method: "POST",
          headers: { "xi-api-key": options.apiKey, "content-type": "application/json", accept: "audio/mpeg" },
          body: JSON.stringify({ text, model_id: ELEVENLABS_MODEL }),
          signal,
        },
      );
      if (!response.ok) {
        throw await httpError("ElevenLabs", response);
      }
      const audio = mediaFile(
        Buffer.from(await response.arrayBuffer()),
        response.headers.get("content-type") ?? "audio/mpeg",
        "audio",
      );
      const billed = Number(response.headers.get("x-character-count") ?? text.length);
      return {
        audio,
        model: ELEVENLABS_MODEL,
        usage: characterUsage(
          "elevenlabs",
          Number.isFinite(billed) ? billed : text.length,
          PRICES.elevenLabsPer1kCharacters,
        ),
      };
    },
  };
}
