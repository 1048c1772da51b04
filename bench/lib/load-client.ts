import { Agent, type RequestOptions, request } from "node:http";
import type { LoadRun, LoadSpec } from "./load";

interface Outcome {
  status: number;
  bytes: number;
  ttfbNs: bigint;
  excerpt: string;
}

/** Runs in a child process forked by `runLoad`: receives one spec, reports one run, exits. */
function receiveSpec(): Promise<LoadSpec> {
  return new Promise((resolve) => process.once("message", (message: LoadSpec) => resolve(message)));
}

function send(options: RequestOptions, body: string | undefined, begin: bigint): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      let bytes = 0;
      let ttfbNs = 0n;
      let excerpt = "";
      res.on("data", (chunk: Buffer) => {
        if (bytes === 0) {
          ttfbNs = process.hrtime.bigint() - begin;
        }
        bytes += chunk.length;
        if (excerpt.length < 200) {
          excerpt += chunk.toString("utf8", 0, 200);
        }
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, bytes, ttfbNs, excerpt: excerpt.slice(0, 200) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function main(spec: LoadSpec): Promise<LoadRun> {
  const target = new URL(spec.url);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: spec.concurrency,
    maxFreeSockets: spec.concurrency,
  });
  const options: RequestOptions = {
    agent,
    host: target.hostname,
    port: target.port,
    path: `${target.pathname}${target.search}`,
    method: spec.body === undefined ? "GET" : "POST",
    headers: {
      ...spec.headers,
      ...(spec.body === undefined ? {} : { "content-length": String(Buffer.byteLength(spec.body)) }),
    },
  };
  const latencies = new Float64Array(spec.requests);
  const ttfb = new Float64Array(spec.requests);
  let issued = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let responseBytes = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(spec.timeLimitMs) * 1_000_000n;

  async function client(): Promise<void> {
    while (issued < spec.requests && process.hrtime.bigint() < deadline) {
      issued++;
      const begin = process.hrtime.bigint();
      try {
        const outcome = await send(options, spec.body, begin);
        if (outcome.status === 200) {
          ttfb[completed] = Number(outcome.ttfbNs) / 1e6;
          latencies[completed++] = Number(process.hrtime.bigint() - begin) / 1e6;
          responseBytes = outcome.bytes;
        } else {
          errors++;
          firstError ??= `HTTP ${outcome.status}: ${outcome.excerpt}`;
        }
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  }

  await Promise.all(Array.from({ length: spec.concurrency }, () => client()));
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  agent.destroy();
  return {
    completed,
    durationMs,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    responseBytes,
    latenciesMs: latencies.slice(0, completed),
    ttfbMs: ttfb.slice(0, completed),
  };
}

const run = await main(await receiveSpec());
process.send?.(run, () => process.disconnect());
