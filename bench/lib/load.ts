import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type LatencySummary, requestsPerSecond, summarizeLatencies } from "./stats";

export interface LoadSpec {
  /** Only loopback targets: a benchmark must never load someone else's machine. */
  url: string;
  headers?: Record<string, string>;
  /** Sent as a POST when given; a GET otherwise. */
  body?: string;
  /** Requests to send; the run stops earlier when `timeLimitMs` passes. */
  requests: number;
  /** Requests in flight at once, each on its own keep-alive connection. */
  concurrency: number;
  timeLimitMs: number;
  /** Aborting kills the load client (e.g. on Ctrl-C) and rejects the run. */
  signal?: AbortSignal;
}

export interface LoadRun {
  completed: number;
  durationMs: number;
  errors: number;
  /** The first failure (status and a body excerpt, or the network error), to say why a run is invalid. */
  firstError?: string;
  /** Body bytes of the last successful response. */
  responseBytes: number;
  /** Request sent → body ended, per successful request. */
  latenciesMs: Float64Array;
  /** Request sent → first body chunk, per successful request. */
  ttfbMs: Float64Array;
}

export interface LoadReport extends LatencySummary {
  concurrency: number;
  /** Requests asked for; `count` (successes) plus `errors` is less when the time limit cut the run. */
  requests: number;
  rps: number;
  durationMs: number;
  errors: number;
  firstError?: string;
  responseBytes: number;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]"]);

/**
 * Sends the load from a child process, so the client's HTTP work runs beside the server (on another
 * core where there is one) instead of in the event loop being measured. A child process rather than a
 * worker thread: it inherits tsx's loader through execArgv, which workers on Node 20 do not.
 */
export function runLoad({ signal, ...spec }: LoadSpec): Promise<LoadRun> {
  const { hostname } = new URL(spec.url);
  if (!LOOPBACK_HOSTS.has(hostname)) {
    throw new Error(`refusing to load ${spec.url}: benchmarks only target 127.0.0.1`);
  }
  const client = fork(fileURLToPath(new URL("./load-client.ts", import.meta.url)), {
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    ...(signal ? { signal } : {}),
  });
  return new Promise<LoadRun>((resolve, reject) => {
    let run: LoadRun | undefined;
    client.once("message", (message: LoadRun) => {
      run = message;
    });
    client.once("error", reject);
    client.once("exit", (code) => {
      if (run && code === 0) {
        resolve(run);
      } else {
        reject(new Error(`load client exited with code ${code} before reporting`));
      }
    });
    client.send(spec);
  });
}

export async function measure(spec: LoadSpec): Promise<LoadReport> {
  const run = await runLoad(spec);
  return {
    concurrency: spec.concurrency,
    requests: spec.requests,
    rps: requestsPerSecond(run.completed, run.durationMs),
    ...summarizeLatencies(run.latenciesMs),
    durationMs: Math.round(run.durationMs),
    errors: run.errors,
    ...(run.firstError === undefined ? {} : { firstError: run.firstError }),
    responseBytes: run.responseBytes,
  };
}
