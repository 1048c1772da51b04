import { oc } from "@orpc/contract";
import {
  generateImageInput,
  mediaResultSchema,
  speechToTextInput,
  textToSpeechInput,
} from "../schemas/media";

const tags = ["Box API"];
/** The run's own header, as the model gateway takes it: box-agent's MCP tools send it on each call. */
const description =
  "Optional header `x-vps-run-id`: the run this call is made for (billed to it in the ledger when it is this box's own run).";

/** Media generation for the box's agent: images, speech, transcripts. Billed to the box's owner. */
export const aiContract = {
  generateImage: oc
    .route({
      method: "POST",
      path: "/ai/generate-image",
      summary: "Generate 1–4 images from a prompt",
      tags,
      description,
    })
    .input(generateImageInput)
    .output(mediaResultSchema),
  textToSpeech: oc
    .route({
      method: "POST",
      path: "/ai/text-to-speech",
      summary: "Turn text into speech",
      tags,
      description,
    })
    .input(textToSpeechInput)
    .output(mediaResultSchema),
  speechToText: oc
    .route({ method: "POST", path: "/ai/speech-to-text", summary: "Transcribe audio", tags, description })
    .input(speechToTextInput)
    .output(mediaResultSchema),
};
