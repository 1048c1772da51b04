import type { ImageSize } from "@vps-claude/ai";
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

export interface GenerateImageRequest {
  prompt: string;
  size: ImageSize;
  count: number;
}

/** `generate_image`: fal FLUX.1 [dev], else Replicate FLUX.1 [schnell]; the images are kept and returned. */
export async function generateImage({
  deps,
  target,
  request,
}: {
  deps: ApiDeps;
  target: BoxRow;
  request: GenerateImageRequest;
}): Promise<MediaResult> {
  await assertWithinAiBudget(deps, target);
  const generated = await callProviders(() => deps.ai.media.generateImage(request));
  const usageId = await recordAiUsage(deps, target, "image", generated.usage);
  const result: MediaResult = {
    provider: generated.usage.provider,
    files: await storeMedia(deps, target, usageId, generated.images),
    costUsd: generated.usage.costUsd,
    fallbackFrom: generated.fallbackFrom,
  };
  logFallback(deps, target, "image", result);
  return result;
}
