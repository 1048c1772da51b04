import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
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

export interface SseLoadRun {
  completed: number;
  durationMs: number;
  errors: number;
  firstError?: string;
  responseBytes: number;
  /** Request sent → first body chunk. */
  ttfbMs: Float64Array;
  /** Request sent → body ended. */
  totalMs: Float64Array;
}

export interface SseLoadReport {
  concurrency: number;
  requests: number;
  count: number;
  errors: number;
  firstError?: string;
  rps: number;
  responseBytes: number;
  ttfb: LatencySummary;
  total: LatencySummary;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]"]);

/** POSTs streamed requests from a child process (so the client does not share the measured event loop). */
export function measureSse(spec: SseLoadSpec, signal?: AbortSignal): Promise<SseLoadReport> {
  if (!LOOPBACK_HOSTS.has(new URL(spec.url).hostname)) {
    throw new Error(`refusing to load ${spec.url}: benchmarks only target 127.0.0.1`);
  }
  const client = fork(fileURLToPath(new URL("./sse-load-client.ts", import.meta.url)), {
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    ...(signal ? { signal } : {}),
  });
  return new Promise<SseLoadReport>((resolve, reject) => {
    let run: SseLoadRun | undefined;
    client.once("message", (message: SseLoadRun) => {
      run = message;
    });
    client.once("error", reject);
    client.once("exit", (code) => {
      if (!run || code !== 0) {
        reject(new Error(`load client exited with code ${code} before reporting`));
        return;
      }
      resolve({
        concurrency: spec.concurrency,
        requests: spec.requests,
        count: run.completed,
        errors: run.errors,
        ...(run.firstError === undefined ? {} : { firstError: run.firstError }),
        rps: requestsPerSecond(run.completed, run.durationMs),
        responseBytes: run.responseBytes,
        ttfb: summarizeLatencies(run.ttfbMs),
        total: summarizeLatencies(run.totalMs),
      });
    });
    client.send(spec);
  });
}
