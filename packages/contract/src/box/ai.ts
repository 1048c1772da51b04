import { oc } from "@orpc/contract";
import {
  generateImageInput,
  mediaResultSchema,
  speechToTextInput,
  textToSpeechInput,
} from "../schemas/media";

const tags = ["Box API"];

/** Media generation for the box's agent: images, speech, transcripts. Billed to the box's owner. */
export const aiContract = {
  generateImage: oc
    .route({ method: "POST", path: "/ai/generate-image", summary: "Generate 1–4 images from a prompt", tags })
    .input(generateImageInput)
    .output(mediaResultSchema),
  textToSpeech: oc
    .route({ method: "POST", path: "/ai/text-to-speech", summary: "Turn text into speech", tags })
    .input(textToSpeechInput)
    .output(mediaResultSchema),
  speechToText: oc
    .route({ method: "POST", path: "/ai/speech-to-text", summary: "Transcribe audio", tags })
    .input(speechToTextInput)
    .output(mediaResultSchema),
};
