/**
 * The provider clients' own cost estimate of a call (`Usage.costUsd`). What the platform bills
 * (`ai_usage.cost_usd`, the ledger) comes from its one price table, `services/usage/prices.ts` in
 * @vps-claude/api, whose test keeps these equal to it. Units match `ai_usage.unit`: images,
 * characters of text, seconds of audio.
 */
export const PRICES = {
  /** fal `fal-ai/flux/dev`: $0.025 per megapixel; our sizes are ≤ ~1 MP, so per image. */
  falFluxDevPerImage: 0.025,
  /** Replicate `black-forest-labs/flux-schnell`: $0.003 per output image. */
  replicateFluxSchnellPerImage: 0.003,
  /** ElevenLabs `eleven_multilingual_v2`: about $0.30 per 1,000 characters (Creator-tier overage). */
  elevenLabsPer1kCharacters: 0.3,
  /** Replicate `lucataco/xtts-v2`: billed per GPU second; about $0.02 per 1,000 characters of text. */
  replicateXttsPer1kCharacters: 0.02,
  /** Google Speech-to-Text v1 standard model: $0.024 per minute of billed audio. */
  googleSpeechPerMinute: 0.024,
  /** Replicate `openai/whisper`: billed per GPU second; about $0.006 per minute of audio. */
  replicateWhisperPerMinute: 0.006,
} as const;

export type UsageUnit = "image" | "character" | "second";

/** What one call consumed and what it cost, as recorded in `ai_usage`. */
export interface Usage {
  provider: string;
  units: number;
  unit: UsageUnit;
  costUsd: number;
}

const round6 = (value: number) => Math.round(value * 1e6) / 1e6;

export const imageUsage = (provider: string, images: number, perImage: number): Usage => ({
  provider,
  units: images,
  unit: "image",
  costUsd: round6(images * perImage),
});

export const characterUsage = (provider: string, characters: number, per1k: number): Usage => ({
  provider,
  units: characters,
  unit: "character",
  costUsd: round6((characters / 1000) * per1k),
});

export const audioUsage = (provider: string, seconds: number, perMinute: number): Usage => ({
  provider,
  units: Math.round(seconds * 1000) / 1000,
  unit: "second",
  costUsd: round6((seconds / 60) * perMinute),
});
