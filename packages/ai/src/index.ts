export { ELEVENLABS_DEFAULT_VOICE, ELEVENLABS_MODEL, ELEVENLABS_VOICES } from "./elevenlabs";
export {
  type AiCapability,
  AiNotConfiguredError,
  AiProvidersFailedError,
  describeCapability,
  type ProviderFailure,
} from "./errors";
export { FAL_IMAGE_MODEL } from "./fal";
export { extensionFor, type MediaFile, normalizeMimeType, sniffMimeType } from "./media";
export { createMediaAi, type MediaAi, type MediaAiConfig } from "./media-ai";
export { PRICES, type Usage, type UsageUnit } from "./prices";
export { REPLICATE_IMAGE_MODEL, REPLICATE_STT_MODEL, REPLICATE_TTS_MODEL } from "./replicate";
export {
  IMAGE_SIZES,
  type ImageRequest,
  type ImageResult,
  type ImageSize,
  type SpeechRequest,
  type SpeechResult,
  type TranscriptionRequest,
  type TranscriptionResult,
} from "./types";
