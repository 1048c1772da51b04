import { createRedis, type Redis } from "@vps-claude/redis";

/**
 * Runs in a child process forked by main.ts: the dashboard's side of the measurement, in its own
 * event loop as a browser is. It follows runs through the user API's SSE stream and, for the
 * baseline, listens on a bare Redis channel; each event is stamped with this machine's clock when
 * it arrives, to be set against the moment it was emitted (box-agent's `at`, the publisher's `sentAt`).
 */

export interface StreamTarget {
  boxId: string;
  runId: string;
}

export interface ReceivedEvent {
  seq: number;
  type: string;
  /** box-agent's `at`, ms since the epoch. */
  atMs: number;
  receivedAtMs: number;
}

export interface StreamResult {
  runId: string;
  /** When the stream's response headers arrived: events emitted before then are catch-up, not live. */
  openedAtMs: number;
  status: number;
  events: ReceivedEvent[];
  /** The stream ended with `event: done` (the run finished). */
  done: boolean;
  error?: string;
}

export type SubscriberRequest =
  | { type: "redis-listen"; url: string; channel: string }
  | { type: "redis-take" }
  | { type: "streams"; baseUrl: string; cookie: string; targets: StreamTarget[]; timeoutMs: number };

export type SubscriberMessage =
  | { type: "redis-ready" }
  | { type: "redis-latencies"; latenciesMs: number[] }
  | { type: "streams-opened" }
  | { type: "streams-done"; results: StreamResult[] };

const reply = (message: SubscriberMessage) => process.send?.(message);

let subscriber: Redis | undefined;
let redisLatencies: number[] = [];

async function listen(url: string, channel: string): Promise<void> {
  subscriber = createRedis(url, "worker");
  subscriber.on("message", (_channel: string, message: string) => {
    const receivedAtMs = Date.now();
    const { sentAtMs } = JSON.parse(message) as { sentAtMs: number };
    redisLatencies.push(receivedAtMs - sentAtMs);
  });
  await subscriber.subscribe(channel);
  reply({ type: "redis-ready" });
}

/** Reads one run's stream by the SSE rules (blank-line separated blocks of `id:`/`event:`/`data:`). */
async function follow(
  { baseUrl, cookie, timeoutMs }: { baseUrl: string; cookie: string; timeoutMs: number },
  target: StreamTarget,
  opened: () => void,
): Promise<StreamResult> {
  const result: StreamResult = { runId: target.runId, openedAtMs: 0, status: 0, events: [], done: false };
  try {
    const response = await fetch(`${baseUrl}/rpc/box/${target.boxId}/runs/${target.runId}/stream`, {
      headers: { cookie, accept: "text/event-stream" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    result.openedAtMs = Date.now();
    result.status = response.status;
    opened();
    if (!response.ok || !response.body) {
      result.error = `HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`;
      return result;
    }
    let buffer = "";
    for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
      const receivedAtMs = Date.now();
      buffer += chunk;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) {
            event = line.slice(6).trim();
          } else if (line.startsWith("data:")) {
            data.push(line.slice(5).replace(/^ /, ""));
          }
        }
        if (event === "done") {
          result.done = true;
        } else if (event === "message" && data.length > 0) {
          const parsed = JSON.parse(data.join("\n")) as {
            seq: number;
            type: string;
            at: string;
            status?: string;
          };
          result.events.push({
            seq: parsed.seq,
            // Status events split by status: a run queued, started or ended are different moments.
            type: parsed.type === "status" ? `status:${parsed.status}` : parsed.type,
            atMs: Date.parse(parsed.at),
            receivedAtMs,
          });
        }
      }
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    opened();
  }
  return result;
}

async function followAll(request: Extract<SubscriberRequest, { type: "streams" }>): Promise<void> {
  let waiting = request.targets.length;
  let announce: () => void = () => {};
  const allOpened = new Promise<void>((resolve) => {
    announce = resolve;
  });
  const opened = () => {
    waiting--;
    if (waiting === 0) {
      announce();
    }
  };
  const results = Promise.all(request.targets.map((target) => follow(request, target, opened)));
  await allOpened;
  reply({ type: "streams-opened" });
  reply({ type: "streams-done", results: await results });
}

process.on("message", (request: SubscriberRequest) => {
  if (request.type === "redis-listen") {
    void listen(request.url, request.channel);
  } else if (request.type === "redis-take") {
    reply({ type: "redis-latencies", latenciesMs: redisLatencies });
    redisLatencies = [];
  } else {
    void followAll(request);
  }
});
// The parent going away (Ctrl-C, a crash) takes this process with it.
process.on("disconnect", () => {
  subscriber?.disconnect();
  process.exit(0);
});
