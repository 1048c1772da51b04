import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export interface WaitForHttpOptions {
  /** Which status counts as up. */
  accept: (status: number) => boolean;
  timeoutMs: number;
  /** Polled between tries; true stops the wait early (the runner is shutting down). */
  cancelled: () => boolean;
}

/** Polls `url` until it answers with an accepted status; false on timeout or cancellation. */
export async function waitForHttp(url: string, options: WaitForHttpOptions): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline && !options.cancelled()) {
    const code = await status(url);
    if (code !== undefined && options.accept(code)) {
      return true;
    }
    await sleep(500);
  }
  return false;
}

/**
 * The HTTP status `url` answers with (redirects not followed), or undefined when nothing answers.
 * No keep-alive: an idle pooled connection would hold the service's graceful close open for seconds.
 */
export function status(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 5_000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(undefined));
  });
}
