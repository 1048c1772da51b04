import { createElevenLabsProvider } from "./elevenlabs";
import {
  type AiCapability,
  AiNotConfiguredError,
  AiProvidersFailedError,
  failureReason,
  type ProviderFailure,
} from "./errors";
import { createFalImageProvider } from "./fal";
import { createGoogleSpeechProvider } from "./google-speech";
import { createReplicateProviders } from "./replicate";
import type {
  ImageRequest,
  ImageResult,
  Provider,
  SpeechRequest,
  SpeechResult,
  TranscriptionRequest,
  TranscriptionResult,
} from "./types";

export interface MediaAiConfig {
  fal?: { apiKey: string; baseUrl?: string };
  replicate?: { apiToken: string; baseUrl?: string };
  elevenLabs?: { apiKey: string; baseUrl?: string };
  googleSpeech?: { apiKey: string; baseUrl?: string };
  /** How often queue-based providers (fal, Replicate) are polled; tests shorten it. */
  pollIntervalMs?: number;
  /** Time one provider gets for one call, downloads included, before the next is tried. */
  providerTimeoutMs?: number;
  /** Largest generated file accepted from a provider. */
  maxDownloadBytes?: number;
}

/** Image, speech and transcription with a primary provider and a fallback; see PRICES for the accounting. */
export interface MediaAi {
  /** Names of the configured providers per capability, in the order they are tried. */
  providers: Record<AiCapability, string[]>;
  generateImage(request: ImageRequest): Promise<ImageResult>;
  textToSpeech(request: SpeechRequest): Promise<SpeechResult>;
  speechToText(request: TranscriptionRequest): Promise<TranscriptionResult>;
}

const DEFAULT_TIMEOUT_MS = 180_000;
const DEFAULT_MAX_DOWNLOAD_BYTES = 25 * 1024 * 1024;

/**
 * Tries each configured provider in order; the first success wins and says which providers failed
 * before it. A provider's failure of any kind (HTTP 4xx/5xx, network, timeout, unusable output) moves on.
 */
async function withFallback<Request, Output>(
  capability: AiCapability,
  providers: Provider<Request, Output>[],
  variables: string[],
  request: Request,
  timeoutMs: number,
): Promise<Output & { fallbackFrom: ProviderFailure[] }> {
  if (providers.length === 0) {
    throw new AiNotConfiguredError(capability, variables);
  }
  const failures: ProviderFailure[] = [];
  for (const provider of providers) {
    try {
      const output = await provider.run(request, AbortSignal.timeout(timeoutMs));
      return { ...output, fallbackFrom: failures } as Output & { fallbackFrom: ProviderFailure[] };
    } catch (error) {
      failures.push({ provider: provider.name, reason: failureReason(error) });
    }
  }
  throw new AiProvidersFailedError(capability, failures);
}

export function createMediaAi(config: MediaAiConfig): MediaAi {
  const maxDownloadBytes = config.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  const timeoutMs = config.providerTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const replicate = config.replicate
    ? createReplicateProviders({
        apiToken: config.replicate.apiToken,
        baseUrl: config.replicate.baseUrl,
        pollIntervalMs: config.pollIntervalMs,
        maxDownloadBytes,
      })
    : undefined;

  const image: Provider<ImageRequest, ImageResult>[] = [];
  if (config.fal) {
    image.push(
      createFalImageProvider({ ...config.fal, pollIntervalMs: config.pollIntervalMs, maxDownloadBytes }),
    );
  }
  const speech: Provider<SpeechRequest, SpeechResult>[] = [];
  if (config.elevenLabs) {
    speech.push(createElevenLabsProvider(config.elevenLabs));
  }
  const transcription: Provider<TranscriptionRequest, TranscriptionResult>[] = [];
  if (config.googleSpeech) {
    transcription.push(createGoogleSpeechProvider(config.googleSpeech));
  }
  if (replicate) {
    image.push(replicate.image);
    speech.push(replicate.speech);
    transcription.push(replicate.transcription);
  }

  return {
    providers: {
      image: image.map((provider) => provider.name),
      text_to_speech: speech.map((provider) => provider.name),
      speech_to_text: transcription.map((provider) => provider.name),
    },
    generateImage: (request) =>
      withFallback("image", image, ["FAL_KEY", "REPLICATE_API_TOKEN"], request, timeoutMs),
    textToSpeech: (request) =>
      withFallback(
        "text_to_speech",
        speech,
        ["ELEVENLABS_API_KEY", "REPLICATE_API_TOKEN"],
        request,
        timeoutMs,
      ),
    speechToText: (request) =>
      withFallback(
        "speech_to_text",
        transcription,
        ["GOOGLE_SPEECH_API_KEY", "REPLICATE_API_TOKEN"],
        request,
        timeoutMs,
      ),
  };
}
