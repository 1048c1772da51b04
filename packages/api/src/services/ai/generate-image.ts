import type { ImageSize } from "@vps-claude/ai";
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
  claimedRunId = null,
}: {
  deps: ApiDeps;
  target: BoxRow;
  /** The `x-vps-run-id` the box sent: the run the call is billed to, if it is the box's own. */
  claimedRunId?: string | null;
  request: GenerateImageRequest;
}): Promise<MediaResult> {
  await assertWithinAiBudget(deps, target);
  const generated = await callProviders(() => deps.ai.media.generateImage(request));
  const recorded = await recordMediaCall({
    deps,
    target,
    capability: "image",
    served: generated,
    claimedRunId,
  });
  const result: MediaResult = {
    provider: generated.usage.provider,
    files: await storeMedia(deps, target, recorded.usageId, generated.images),
    costUsd: recorded.costUsd,
    fallbackFrom: generated.fallbackFrom,
  };
  logFallback(deps, target, "image", result);
  return result;
}
