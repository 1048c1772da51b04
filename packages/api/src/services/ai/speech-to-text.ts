import { normalizeMimeType } from "@vps-claude/ai";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import {
  assertWithinAiBudget,
  type BoxRow,
  callProviders,
  logFallback,
  type MediaResult,
  recordMediaCall,
} from "./media-call";

export const MAX_AUDIO_BYTES = 10 * 1024 * 1024;

/** `speech_to_text`: Google Speech-to-Text (≤ 1 min, common formats), else Replicate Whisper. */
export async function speechToText({
  deps,
  target,
  request,
  claimedRunId = null,
}: {
  deps: ApiDeps;
  target: BoxRow;
  /** The `x-vps-run-id` the box sent: the run the call is billed to, if it is the box's own. */
  claimedRunId?: string | null;
  request: { audioBase64: string; mimeType: string; language?: string };
}): Promise<MediaResult> {
  const audio = Buffer.from(request.audioBase64, "base64");
  if (audio.length === 0) {
    throw new ServiceError("BAD_REQUEST", "audioBase64: the audio is empty");
  }
  if (audio.length > MAX_AUDIO_BYTES) {
    throw new ServiceError(
      "PAYLOAD_TOO_LARGE",
      `the audio is ${audio.length} bytes; the limit is ${MAX_AUDIO_BYTES} (10 MiB)`,
    );
  }
  await assertWithinAiBudget(deps, target);
  const transcribed = await callProviders(() =>
    deps.ai.media.speechToText({
      audio,
      mimeType: normalizeMimeType(request.mimeType),
      language: request.language,
    }),
  );
  const recorded = await recordMediaCall({
    deps,
    target,
    capability: "speech_to_text",
    served: transcribed,
    claimedRunId,
  });
  const result: MediaResult = {
    provider: transcribed.usage.provider,
    files: [],
    text: transcribed.text,
    costUsd: recorded.costUsd,
    fallbackFrom: transcribed.fallbackFrom,
  };
  logFallback(deps, target, "speech_to_text", result);
  return result;
}
