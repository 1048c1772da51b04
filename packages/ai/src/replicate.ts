import Replicate from "replicate";
import { ProviderResponseError } from "./errors";
import { downloadMedia, wavDurationSeconds } from "./media";
import { audioUsage, characterUsage, imageUsage, PRICES } from "./prices";
import type {
  ImageRequest,
  ImageResult,
  ImageSize,
  Provider,
  SpeechRequest,
  SpeechResult,
  TranscriptionRequest,
  TranscriptionResult,
} from "./types";

/** An official model: run by name, always its latest version. */
export const REPLICATE_IMAGE_MODEL = "black-forest-labs/flux-schnell";
/** Community models need a pinned version (`owner/name:version`). */
export const REPLICATE_TTS_MODEL =
  "lucataco/xtts-v2:684bc3855b37866c0c65add2ff39c78f3dea3f4ff103a436465326e0f438d55e";
export const REPLICATE_STT_MODEL =
  "openai/whisper:8099696689d249cf8b122d833c36ac3f75505c666a395ca40ef26f68e7d3d16e";

/** XTTS clones the voice of a reference recording; this is the sample from the model's own page. */
export const XTTS_DEFAULT_SPEAKER =
  "https://replicate.delivery/pbxt/Jt79w0xsT64R1JsiJ0LQRL8UcWspg5J4RFrU6YwEKpOT1ukS/male.wav";

const ASPECT_RATIOS: Record<ImageSize, string> = {
  square_hd: "1:1",
  square: "1:1",
  portrait_4_3: "3:4",
  portrait_16_9: "9:16",
  landscape_4_3: "4:3",
  landscape_16_9: "16:9",
};

export interface ReplicateOptions {
  apiToken: string;
  /** API base without `/v1`, e.g. https://api.replicate.com. */
  baseUrl?: string;
  pollIntervalMs?: number;
  maxDownloadBytes: number;
}

export interface ReplicateProviders {
  image: Provider<ImageRequest, ImageResult>;
  speech: Provider<SpeechRequest, SpeechResult>;
  transcription: Provider<TranscriptionRequest, TranscriptionResult>;
}

export function createReplicateProviders(options: ReplicateOptions): ReplicateProviders {
  const replicate = new Replicate({
    auth: options.apiToken,
    baseUrl: `${(options.baseUrl ?? "https://api.replicate.com").replace(/\/+$/, "")}/v1`,
    // Plain URLs (not FileOutput streams), so we download them ourselves with a size limit.
    useFileOutput: false,
  });
  // The default `Prefer: wait` mode can hand back `null` when the model outlives the wait; polling cannot.
  const wait = { mode: "poll", interval: options.pollIntervalMs ?? 1000 } as const;
  const download = (url: unknown, expected: "image" | "audio", signal: AbortSignal) => {
    if (typeof url !== "string") {
      throw new ProviderResponseError(`the model returned ${JSON.stringify(url)?.slice(0, 80)}, not a URL`);
    }
    return downloadMedia(url, expected, { maxBytes: options.maxDownloadBytes, signal });
  };

  return {
    image: {
      name: "replicate",
      async run({ prompt, size, count }, signal) {
        const output = await replicate.run(REPLICATE_IMAGE_MODEL, {
          input: { prompt, num_outputs: count, aspect_ratio: ASPECT_RATIOS[size], output_format: "png" },
          wait,
          signal,
        });
        const urls: unknown[] = Array.isArray(output) ? output : [output];
        if (urls.length === 0) {
          throw new ProviderResponseError(`${REPLICATE_IMAGE_MODEL} returned no images`);
        }
        const images = await Promise.all(urls.map((url) => download(url, "image", signal)));
        return {
          images,
          model: REPLICATE_IMAGE_MODEL,
          usage: imageUsage("replicate", images.length, PRICES.replicateFluxSchnellPerImage),
        };
      },
    },
    speech: {
      name: "replicate",
      async run({ text, voice }, signal) {
        const speaker = voice && /^https?:\/\//i.test(voice) ? voice : XTTS_DEFAULT_SPEAKER;
        const output = await replicate.run(REPLICATE_TTS_MODEL, {
          input: { text, speaker, language: "en", cleanup_voice: false },
          wait,
          signal,
        });
        return {
          audio: await download(output, "audio", signal),
          model: REPLICATE_TTS_MODEL,
          usage: characterUsage("replicate", text.length, PRICES.replicateXttsPer1kCharacters),
        };
      },
    },
    transcription: {
      name: "replicate",
      async run({ audio, mimeType, language }, signal) {
        const code = language?.split("-")[0]?.toLowerCase();
        const output = (await replicate.run(REPLICATE_STT_MODEL, {
          // A Blob is uploaded through Replicate's files API and passed to the model as its URL.
          input: {
            audio: new Blob([new Uint8Array(audio)], { type: mimeType }),
            ...(code ? { language: code } : {}),
          },
          wait,
          signal,
        })) as { transcription?: unknown; segments?: { end?: unknown }[] } | null;
        if (typeof output?.transcription !== "string") {
          throw new ProviderResponseError(`${REPLICATE_STT_MODEL} returned no transcription`);
        }
        const ends = (output.segments ?? []).map((segment) => Number(segment.end)).filter(Number.isFinite);
        const seconds = wavDurationSeconds(audio) ?? (ends.length > 0 ? Math.max(...ends) : 0);
        return {
          text: output.transcription.trim(),
          durationSeconds: seconds,
          model: REPLICATE_STT_MODEL,
          usage: audioUsage("replicate", seconds, PRICES.replicateWhisperPerMinute),
        };
      },
    },
  };
}
