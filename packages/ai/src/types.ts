import { IMAGE_SIZES } from "@vps-claude/contract";
import type { MediaFile } from "./media";
import type { Usage } from "./prices";

/** fal's named sizes (the box API's `size`); Replicate gets the matching aspect ratio. */
export { IMAGE_SIZES };
export type ImageSize = (typeof IMAGE_SIZES)[number];

export interface ImageRequest {
  prompt: string;
  size: ImageSize;
  /** 1–4. */
  count: number;
}

export interface SpeechRequest {
  text: string;
  /** ElevenLabs voice id or premade name; for XTTS a URL of a reference recording. */
  voice?: string;
}

export interface TranscriptionRequest {
  audio: Buffer;
  mimeType: string;
  /** BCP-47, e.g. `en-US`; Google defaults to en-US, Whisper detects it. */
  language?: string;
}

/** Which provider served the call, what it consumed, and which providers failed before it. */
export interface Served {
  usage: Usage;
  model: string;
  /** Providers tried first that failed, in order (empty when the primary served it). */
  fallbackFrom: { provider: string; reason: string }[];
}

export interface ImageResult extends Served {
  images: MediaFile[];
}

export interface SpeechResult extends Served {
  audio: MediaFile;
}

export interface TranscriptionResult extends Served {
  text: string;
  /** Seconds of audio transcribed, when the provider or the file says. */
  durationSeconds: number;
}

export interface Provider<Request, Output> {
  name: string;
  run(request: Request, signal: AbortSignal): Promise<Omit<Output, "fallbackFrom">>;
}
