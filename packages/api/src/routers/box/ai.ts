import { ORPCError } from "@orpc/server";
import { AiProvidersFailedError, IMAGE_SIZES } from "@vps-claude/ai";
import { z } from "zod";
import { boxProcedure } from "../../procedures";
import { generateImage } from "../../services/ai/generate-image";
import { speechToText } from "../../services/ai/speech-to-text";
import { MAX_SPEECH_CHARACTERS, textToSpeech } from "../../services/ai/text-to-speech";

const tags = ["Box API"];

/** Every provider failing is the upstream's fault, not ours: 502 with each provider's reason. */
const aiProcedure = boxProcedure.use(async ({ next }) => {
  try {
    return await next();
  } catch (err) {
    if (err instanceof AiProvidersFailedError) {
      throw new ORPCError("BAD_GATEWAY", {
        status: 502,
        message: err.message,
        data: { failures: err.failures },
      });
    }
    throw err;
  }
});

const mediaResultSchema = z.object({
  provider: z.string(),
  files: z.array(z.object({ name: z.string(), mimeType: z.string(), base64: z.string() })),
  text: z.string().optional(),
  costUsd: z.number(),
  fallbackFrom: z.array(z.object({ provider: z.string(), reason: z.string() })),
});

/** 10 MiB of audio is 13,981,016 base64 characters; the service checks the decoded size exactly. */
const MAX_AUDIO_BASE64_CHARS = 14_000_000;

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

/** Media generation for the box's agent: images, speech, transcripts. Billed to the box's owner. */
export const aiRouter = {
  generateImage: aiProcedure
    .route({ method: "POST", path: "/ai/generate-image", summary: "Generate 1–4 images from a prompt", tags })
    .input(generateImageInput)
    .output(mediaResultSchema)
    .handler(({ context, input }) =>
      generateImage({ deps: context.deps, target: context.box, request: input }),
    ),
  textToSpeech: aiProcedure
    .route({ method: "POST", path: "/ai/text-to-speech", summary: "Turn text into speech", tags })
    .input(textToSpeechInput)
    .output(mediaResultSchema)
    .handler(({ context, input }) =>
      textToSpeech({ deps: context.deps, target: context.box, request: input }),
    ),
  speechToText: aiProcedure
    .route({ method: "POST", path: "/ai/speech-to-text", summary: "Transcribe audio", tags })
    .input(speechToTextInput)
    .output(mediaResultSchema)
    .handler(({ context, input }) =>
      speechToText({ deps: context.deps, target: context.box, request: input }),
    ),
};
