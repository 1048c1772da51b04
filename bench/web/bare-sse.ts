import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { nowMs } from "../lib/distribution";
import { stepText } from "./steps";

/** The baseline page: an EventSource that appends each event's text to a list, nothing else. */
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bare SSE</title></head>
<body><ol id="log"></ol><script>
const log = document.getElementById("log");
const source = new EventSource("/events" + location.search);
source.onmessage = (event) => {
  const item = document.createElement("li");
  item.textContent = JSON.parse(event.data).text;
  log.append(item);
};
source.addEventListener("done", () => source.close());
</script></body></html>`;

export interface BareSseRun {
  /** Step → epoch ms the server wrote its event. */
  emittedAt: Map<number, number>;
  finished: Promise<void>;
}

export interface BareSseServer {
  url: string;
  /** The emit times of the next page that connects (one page at a time). */
  nextRun(): BareSseRun;
  close(): Promise<void>;
}

/**
 * A tiny local server that paints the same events as the run page from a plain EventSource: the
 * same step texts, the same pace and the same pause before the first, written as one SSE event each.
 */
export async function startBareSse(spec: {
  turns: number;
  paceMs: number;
  firstTurnDelayMs: number;
}): Promise<BareSseServer> {
  let pending: { run: BareSseRun; done: () => void } | undefined;
  const stream = async (response: ServerResponse) => {
    const current = pending;
    pending = undefined;
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    response.flushHeaders();
    for (let step = 1; step <= spec.turns; step++) {
      await new Promise((resolve) => setTimeout(resolve, step === 1 ? spec.firstTurnDelayMs : spec.paceMs));
      current?.run.emittedAt.set(step, nowMs());
      response.write(
        `id: ${step}\ndata: ${JSON.stringify({ seq: step, text: stepText(step, spec.turns) })}\n\n`,
      );
    }
    response.end("event: done\ndata: {}\n\n");
    current?.done();
  };
  const server = createServer((request, response) => {
    if (request.url?.startsWith("/events")) {
      void stream(response);
    } else {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    nextRun() {
      let done = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      const run: BareSseRun = { emittedAt: new Map(), finished };
      pending = { run, done };
      return run;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
