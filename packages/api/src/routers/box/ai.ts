import { ORPCError } from "@orpc/server";
import { AiProvidersFailedError } from "@vps-claude/ai";
import { boxProcedure } from "../../procedures";
import { generateImage } from "../../services/ai/generate-image";
import { speechToText } from "../../services/ai/speech-to-text";
import { textToSpeech } from "../../services/ai/text-to-speech";

/** Every provider failing is the upstream's fault, not ours: 502 with each provider's reason. */
const ai = boxProcedure.use(async ({ next }) => {
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
}).ai;

/** Media generation for the box's agent: images, speech, transcripts. Billed to the box's owner. */
export const aiRouter = {
  generateImage: ai.generateImage.handler(({ context, input }) =>
    generateImage({ deps: context.deps, target: context.box, request: input }),
  ),
  textToSpeech: ai.textToSpeech.handler(({ context, input }) =>
    textToSpeech({ deps: context.deps, target: context.box, request: input }),
  ),
  speechToText: ai.speechToText.handler(({ context, input }) =>
    speechToText({ deps: context.deps, target: context.box, request: input }),
  ),
};
