import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { requestsPerSecond } from "./stats";

export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
}

export interface OpenLoopSpec {
  /** Only loopback targets: a benchmark must never load someone else's machine. */
  url: string;
  /** Sent in order, one per slot; the run sends `min(requests.length, rate × time limit)`. */
  requests: PreparedRequest[];
  ratePerSecond: number;
  /** No new request is started after this; in-flight ones get `drainMs` more to answer. */
  timeLimitMs: number;
  drainMs: number;
  /** Aborting stops the client (e.g. on Ctrl-C, before the servers it loads go away). */
  signal?: AbortSignal;
}

export interface OpenLoopRun {
  sent: number;
  completed: number;
  errors: number;
  firstError?: string;
  /** From the first slot to the last answer. */
  durationMs: number;
  /** Service time: from the moment a request was written until its answer ended. */
  latenciesMs: Float64Array;
  /**
   * From the slot a request was due in until its answer: includes any lag of the sender, so a
   * server that falls behind cannot hide it (no coordinated omission).
   */
  scheduledLatenciesMs: Float64Array;
  /** How late the sender was for its worst slot; above a few ms the offered rate was not met. */
  maxSendLagMs: number;
  /** Response bodies of successes, in send order (the caller may need ids from them). */
  bodies: string[];
}

export interface OpenLoopReport {
  run: OpenLoopRun;
  /** Completed requests per second over the run. */
  achievedRps: number;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]"]);

/**
 * POSTs prepared requests at a fixed rate from a child process, scheduled by the clock rather than by
 * answers (an open loop, like real webhook traffic): a slow server meets more requests in flight, not
 * fewer. The child keeps the client's work out of the event loop being measured.
 */
export function runOpenLoop({ signal, ...spec }: OpenLoopSpec): Promise<OpenLoopReport> {
  const { hostname } = new URL(spec.url);
  if (!LOOPBACK_HOSTS.has(hostname)) {
    throw new Error(`refusing to load ${spec.url}: benchmarks only target 127.0.0.1`);
  }
  const client = fork(fileURLToPath(new URL("./open-loop-client.ts", import.meta.url)), {
    serialization: "advanced",
    // The child's stdout goes to our stderr: stdout carries only the result object.
    stdio: ["ignore", process.stderr, "inherit", "ipc"],
    ...(signal ? { signal } : {}),
  });
  return new Promise<OpenLoopReport>((resolve, reject) => {
    let run: OpenLoopRun | undefined;
    client.once("message", (message: OpenLoopRun) => {
      run = message;
    });
    // With a signal, an abort arrives as an 'error' as well as the exit below.
    client.once("error", reject);
    client.once("exit", (code) => {
      if (run && code === 0) {
        resolve({ run, achievedRps: requestsPerSecond(run.completed, run.durationMs) });
      } else {
        reject(new Error(`open-loop client exited with code ${code} before reporting`));
      }
    });
    client.send(spec);
  });
}
