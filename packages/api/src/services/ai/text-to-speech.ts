import type { ApiDeps } from "../../deps";
import {
  assertWithinAiBudget,
  type BoxRow,
  callProviders,
  logFallback,
  type MediaResult,
  recordAiUsage,
  storeMedia,
} from "./media-call";

/** `text_to_speech`: ElevenLabs multilingual v2 (MP3), else Replicate XTTS v2 (WAV). */
export async function textToSpeech({
  deps,
  target,
  request,
}: {
  deps: ApiDeps;
  target: BoxRow;
  request: { text: string; voice?: string };
}): Promise<MediaResult> {
  await assertWithinAiBudget(deps, target);
  const spoken = await callProviders(() => deps.ai.media.textToSpeech(request));
  const usageId = await recordAiUsage(deps, target, "text_to_speech", spoken.usage);
  const result: MediaResult = {
    provider: spoken.usage.provider,
    files: await storeMedia(deps, target, usageId, [spoken.audio]),
    costUsd: spoken.usage.costUsd,
    fallbackFrom: spoken.fallbackFrom,
  };
  logFallback(deps, target, "text_to_speech", result);
  return result;
}
