import { Agent, type RequestOptions, request } from "node:http";
import type { LoadRun, LoadSpec } from "./load";

interface Outcome {
  status: number;
  bytes: number;
  excerpt: string;
}

/** Runs in a child process forked by `runLoad`: receives one spec, reports one run, exits. */
function receiveSpec(): Promise<LoadSpec> {
  return new Promise((resolve) => process.once("message", (message: LoadSpec) => resolve(message)));
}

function send(options: RequestOptions): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      let bytes = 0;
      let excerpt = "";
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (excerpt.length < 200) {
          excerpt += chunk.toString("utf8", 0, 200);
        }
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, excerpt: excerpt.slice(0, 200) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
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
    method: "GET",
    headers: spec.headers ?? {},
  };
  const latencies = new Float64Array(spec.requests);
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
        const outcome = await send(options);
        if (outcome.status === 200) {
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
  };
}

const run = await main(await receiveSpec());
process.send?.(run, () => process.disconnect());
