import { runLoad } from "../lib/load";
import { type LatencySummary, requestsPerSecond, summarizeLatencies } from "../lib/stats";

export interface SseLoadSpec {
  /** Only loopback targets: a benchmark must never load someone else's machine. */
  url: string;
  headers: Record<string, string>;
  body: string;
  requests: number;
  concurrency: number;
  timeLimitMs: number;
}

export interface SseLoadReport {
  concurrency: number;
  requests: number;
  count: number;
  errors: number;
  firstError?: string;
  rps: number;
  responseBytes: number;
  /** Request sent → first body chunk. */
  ttfb: LatencySummary;
  /** Request sent → body ended. */
  total: LatencySummary;
}

/** POSTs streamed requests from the shared load client (a child process, beside the measured event loop). */
export async function measureSse(spec: SseLoadSpec, signal?: AbortSignal): Promise<SseLoadReport> {
  const run = await runLoad({ ...spec, ...(signal ? { signal } : {}) });
  return {
    concurrency: spec.concurrency,
    requests: spec.requests,
    count: run.completed,
    errors: run.errors,
    ...(run.firstError === undefined ? {} : { firstError: run.firstError }),
    rps: requestsPerSecond(run.completed, run.durationMs),
    responseBytes: run.responseBytes,
    ttfb: summarizeLatencies(run.ttfbMs),
    total: summarizeLatencies(run.latenciesMs),
  };
}
