import type { Logger } from "@vps-claude/logger";
import { toSpritesError } from "./errors.js";

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000 };

/** Repeats `run` on transient failures (network, 5xx, 429) with jittered exponential backoff. */
export async function withRetry<T>(
  operation: string,
  run: () => Promise<T>,
  options: RetryOptions,
  logger: Logger,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (raw) {
      const error = toSpritesError(raw, operation);
      if (!error.retryable || attempt >= options.attempts) {
        throw error;
      }
      const backoff = Math.min(options.baseDelayMs * 2 ** (attempt - 1), options.maxDelayMs);
      const delay = Math.min(
        error.retryAfterMs ?? backoff * (0.5 + Math.random() / 2),
        options.maxDelayMs * 4,
      );
      logger.warn(
        { operation, attempt, code: error.code, delayMs: Math.round(delay) },
        "sprites call failed; retrying",
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
