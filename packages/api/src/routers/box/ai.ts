import { ORPCError } from "@orpc/server";
import { AiProvidersFailedError } from "@vps-claude/ai";
import { boxProcedure } from "../../procedures";
import { generateImage } from "../../services/ai/generate-image";
import { claimedRunIdOf } from "../../services/ai/media-call";
import { speechToText } from "../../services/ai/speech-to-text";
import { textToSpeech } from "../../services/ai/text-to-speech";
import { assertSpendAdmitted } from "../../services/usage/budget";

/**
 * Over a monthly budget nothing reaches a provider (402 with the budget's message). Every provider
 * failing is the upstream's fault, not ours: 502 with each provider's reason.
 */
const ai = boxProcedure.use(async ({ context, next }) => {
  await assertSpendAdmitted({ deps: context.deps, target: context.box });
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

/** box-agent's MCP tools name the run a call is made for; the ledger keeps it if the run is the box's. */
const runIdOf = (context: { headers: Headers }) => claimedRunIdOf(context.headers.get("x-vps-run-id"));

/** Media generation for the box's agent: images, speech, transcripts. Billed to the box's owner. */
export const aiRouter = {
  generateImage: ai.generateImage.handler(({ context, input }) =>
    generateImage({
      deps: context.deps,
      target: context.box,
      request: input,
      claimedRunId: runIdOf(context),
    }),
  ),
  textToSpeech: ai.textToSpeech.handler(({ context, input }) =>
    textToSpeech({ deps: context.deps, target: context.box, request: input, claimedRunId: runIdOf(context) }),
  ),
  speechToText: ai.speechToText.handler(({ context, input }) =>
    speechToText({ deps: context.deps, target: context.box, request: input, claimedRunId: runIdOf(context) }),
  ),
};
