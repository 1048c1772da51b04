import type { ApiDeps } from "../../deps";
import {
  assertWithinAiBudget,
  type BoxRow,
  callProviders,
  logFallback,
  type MediaResult,
  recordMediaCall,
  storeMedia,
} from "./media-call";

/** `text_to_speech`: ElevenLabs multilingual v2 (MP3), else Replicate XTTS v2 (WAV). */
export async function textToSpeech({
  deps,
  target,
  request,
  claimedRunId = null,
}: {
  deps: ApiDeps;
  target: BoxRow;
  /** The `x-vps-run-id` the box sent: the run the call is billed to, if it is the box's own. */
  claimedRunId?: string | null;
  request: { text: string; voice?: string };
}): Promise<MediaResult> {
  await assertWithinAiBudget(deps, target);
  const spoken = await callProviders(() => deps.ai.media.textToSpeech(request));
  const recorded = await recordMediaCall({
    deps,
    target,
    capability: "text_to_speech",
    served: spoken,
    claimedRunId,
  });
  const result: MediaResult = {
    provider: spoken.usage.provider,
    files: await storeMedia(deps, target, recorded.usageId, [spoken.audio]),
    costUsd: recorded.costUsd,
    fallbackFrom: spoken.fallbackFrom,
  };
  logFallback(deps, target, "text_to_speech", result);
  return result;
}
