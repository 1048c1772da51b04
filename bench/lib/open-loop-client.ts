import { Agent, request } from "node:http";
import type { OpenLoopRun, OpenLoopSpec, PreparedRequest } from "./open-loop";

/** Runs in a child process forked by `runOpenLoop`: receives one spec, reports one run, exits. */
function receiveSpec(): Promise<OpenLoopSpec> {
  return new Promise((resolve) => process.once("message", (message: OpenLoopSpec) => resolve(message)));
}

const now = () => performance.now();

interface Answer {
  status: number;
  body: string;
}

function post(agent: Agent, target: URL, prepared: PreparedRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: "POST",
        headers: {
          ...prepared.headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(prepared.body)),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(prepared.body);
  });
}

async function main(spec: OpenLoopSpec): Promise<OpenLoopRun> {
  const target = new URL(spec.url);
  // No socket limit: in an open loop a slow answer must not hold back the next request.
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 256 });
  const intervalMs = 1000 / spec.ratePerSecond;
  const total = Math.min(spec.requests.length, Math.floor((spec.timeLimitMs / 1000) * spec.ratePerSecond));
  const latencies: number[] = [];
  const scheduled: number[] = [];
  const bodies: string[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let maxSendLagMs = 0;
  let lastAnswer = 0;
  const inFlight = new Set<Promise<void>>();
  const start = now() + 20;

  const fire = (index: number, dueAt: number) => {
    const prepared = spec.requests[index];
    if (!prepared) {
      return;
    }
    const sentAt = now();
    maxSendLagMs = Math.max(maxSendLagMs, sentAt - dueAt);
    const done = post(agent, target, prepared).then(
      (answer) => {
        const endedAt = now();
        lastAnswer = Math.max(lastAnswer, endedAt);
        if (answer.status >= 200 && answer.status < 300) {
          latencies.push(endedAt - sentAt);
          scheduled.push(endedAt - dueAt);
          bodies.push(answer.body);
        } else {
          errors++;
          firstError ??= `HTTP ${answer.status}: ${answer.body.slice(0, 300)}`;
        }
      },
      (err: unknown) => {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      },
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };

  await new Promise<void>((resolve) => {
    let next = 0;
    const pump = () => {
      const t = now();
      while (next < total && start + next * intervalMs <= t) {
        fire(next, start + next * intervalMs);
        next++;
      }
      if (next < total) {
        setTimeout(pump, Math.max(0, start + next * intervalMs - now()));
      } else {
        resolve();
      }
    };
    setTimeout(pump, Math.max(0, start - now()));
  });
  await Promise.race([
    Promise.allSettled([...inFlight]),
    new Promise((resolve) => setTimeout(resolve, spec.drainMs)),
  ]);
  const stillOpen = inFlight.size;
  if (stillOpen > 0) {
    errors += stillOpen;
    firstError ??= `${stillOpen} requests unanswered ${spec.drainMs} ms after the last send`;
  }
  agent.destroy();
  return {
    sent: total,
    completed: latencies.length,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    durationMs: Math.max(lastAnswer, start) - start,
    latenciesMs: Float64Array.from(latencies),
    scheduledLatenciesMs: Float64Array.from(scheduled),
    maxSendLagMs,
    bodies,
  };
}

const run = await main(await receiveSpec());
process.send?.(run, () => process.disconnect());
// Sockets the server keeps open must not keep this child alive.
setTimeout(() => process.exit(0), 1000).unref();
