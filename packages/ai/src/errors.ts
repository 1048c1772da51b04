export type AiCapability = "image" | "text_to_speech" | "speech_to_text";

const WHAT: Record<AiCapability, string> = {
  image: "image generation",
  text_to_speech: "text to speech",
  speech_to_text: "speech to text",
};

export const describeCapability = (capability: AiCapability) => WHAT[capability];

/** No provider of this capability has credentials: nothing was called. */
export class AiNotConfiguredError extends Error {
  override name = "AiNotConfiguredError";
  constructor(
    readonly capability: AiCapability,
    readonly variables: string[],
  ) {
    super(`${WHAT[capability]} is not configured: set ${variables.join(" or ")}`);
  }
}

export interface ProviderFailure {
  provider: string;
  reason: string;
}

/** Every configured provider was tried and failed; `failures` says why, in the order they were tried. */
export class AiProvidersFailedError extends Error {
  override name = "AiProvidersFailedError";
  constructor(
    readonly capability: AiCapability,
    readonly failures: ProviderFailure[],
  ) {
    super(
      `${WHAT[capability]} failed on every provider: ${failures.map((f) => `${f.provider}: ${f.reason}`).join("; ")}`,
    );
  }
}

/** A provider's answer we cannot use (no image, an unreadable body…): counts as that provider failing. */
export class ProviderResponseError extends Error {
  override name = "ProviderResponseError";
}

const MAX_REASON = 400;

/** One line per failure, short, without stack: it is shown to the box and logged. */
export function failureReason(error: unknown): string {
  let reason: string;
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    const body = (error as { body?: unknown }).body;
    reason =
      typeof status === "number" && !error.message.includes(String(status))
        ? `HTTP ${status}: ${error.message}`
        : error.message;
    if (body !== undefined && reason.length < 80) {
      reason += ` ${JSON.stringify(body)}`;
    }
    if (error.name === "TimeoutError") {
      reason = `timed out (${reason})`;
    }
  } else {
    reason = String(error);
  }
  const oneLine = reason.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_REASON ? `${oneLine.slice(0, MAX_REASON)}…` : oneLine;
}
