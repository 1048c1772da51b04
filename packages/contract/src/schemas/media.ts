import { z } from "zod";

/** fal's named sizes; Replicate gets the matching aspect ratio. */
export const IMAGE_SIZES = [
  "square_hd",
  "square",
  "portrait_4_3",
  "portrait_16_9",
  "landscape_4_3",
  "landscape_16_9",
] as const;

export const MAX_SPEECH_CHARACTERS = 5000;

/** 10 MiB of audio is 13,981,016 base64 characters; the service checks the decoded size exactly. */
const MAX_AUDIO_BASE64_CHARS = 14_000_000;

export const mediaResultSchema = z.object({
  provider: z.string(),
  files: z.array(z.object({ name: z.string(), mimeType: z.string(), base64: z.string() })),
  text: z.string().optional(),
  costUsd: z.number(),
  fallbackFrom: z.array(z.object({ provider: z.string(), reason: z.string() })),
});

export const generateImageInput = z.object({
  prompt: z.string().trim().min(1, "prompt must not be empty").max(4000, "prompt: at most 4000 characters"),
  size: z.enum(IMAGE_SIZES, { error: `size must be one of ${IMAGE_SIZES.join(", ")}` }).default("square_hd"),
  count: z.number().int().min(1, "count must be 1–4").max(4, "count must be 1–4").default(1),
});

export const textToSpeechInput = z.object({
  text: z
    .string()
    .trim()
    .min(1, "text must not be empty")
    .max(MAX_SPEECH_CHARACTERS, `text: at most ${MAX_SPEECH_CHARACTERS} characters per call`),
  voice: z.string().trim().min(1).max(500).optional(),
});

export const speechToTextInput = z.object({
  audioBase64: z
    .string()
    .max(MAX_AUDIO_BASE64_CHARS, "audioBase64: the audio must be at most 10 MiB")
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, "audioBase64 must be standard base64 without line breaks"),
  mimeType: z
    .string()
    .regex(/^audio\/[\w.+-]+(;.*)?$/i, "mimeType must be an audio type such as audio/wav or audio/mpeg"),
  language: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "language must be a BCP-47 tag such as en-US")
    .optional(),
});
