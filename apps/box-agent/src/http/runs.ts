import { boxAgentContract, isTerminalRunStatus, type RunEvent } from "@vps-claude/contract/box-agent";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { type AgentRunner, RunNotFoundError } from "../agent/runner";
import type { RunStore } from "../run-store";
import { Answer, contractRoute, contractStreamRoute } from "./contract-route";
import { errorResponse, HttpError } from "./errors";

export interface RunRoutesDeps {
  runner: Pick<AgentRunner, "accept" | "get" | "cancel" | "events">;
  runs: Pick<RunStore, "events">;
  /** How often an idle event stream gets a `: keep-alive` comment. */
  keepAliveMs?: number;
}

/** A message up to 200 000 characters, a 50 000-character system prompt and MCP servers fit in this. */
const MAX_CREATE_BYTES = 4 * 1024 * 1024;
const KEEP_ALIVE_MS = 15_000;

function lastEventId(header: string | undefined): number {
  if (header === undefined || header.trim() === "") {
    return 0;
  }
  if (!/^\d{1,9}$/.test(header.trim())) {
    throw new HttpError(
      "BAD_REQUEST",
      `Last-Event-ID must be the seq of an event of this run (a non-negative integer), got '${header.slice(0, 50)}'`,
    );
  }
  return Number(header.trim());
}

function notFound(runId: string): HttpError {
  return new HttpError("NOT_FOUND", `no run ${runId} on this box`);
}

/**
 * A run's events after `afterSeq`: the stored ones, then live ones as they are stored, until `done`.
 * The listener is attached before the store is read, and both happen before anything is awaited, so
 * no event falls between replay and live; seqs already sent are skipped.
 */
async function streamRunEvents(
  stream: SSEStreamingApi,
  runId: string,
  afterSeq: number,
  deps: RunRoutesDeps,
): Promise<void> {
  const live: RunEvent[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const unsubscribe = deps.runner.events.subscribe(runId, {
    event(event) {
      live.push(event);
      notify();
    },
    close() {
      ended = true;
      notify();
    },
  });
  stream.onAbort(() => {
    ended = true;
    notify();
  });
  const stored = deps.runs.events(runId, afterSeq);
  const alreadyOver = isTerminalRunStatus(deps.runner.get(runId)?.status ?? "completed");
  const keepAlive = setInterval(() => {
    void stream.write(": keep-alive\n\n");
  }, deps.keepAliveMs ?? KEEP_ALIVE_MS);

  let sent = afterSeq;
  const send = async (event: RunEvent): Promise<boolean> => {
    if (event.seq <= sent) {
      return false;
    }
    await stream.writeSSE({ id: String(event.seq), event: event.type, data: JSON.stringify(event) });
    sent = event.seq;
    return event.type === "done";
  };
  try {
    for (const event of stored) {
      if (await send(event)) {
        return;
      }
    }
    // Terminal already and its `done` is at or before Last-Event-ID: the caller has everything.
    if (alreadyOver && live.length === 0) {
      return;
    }
    while (!ended) {
      const event = live.shift();
      if (event === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      if (await send(event)) {
        return;
      }
    }
  } finally {
    clearInterval(keepAlive);
    unsubscribe();
  }
}

export function runRoutes(deps: RunRoutesDeps): Hono {
  const app = new Hono();

  contractRoute(
    app,
    boxAgentContract.runs.create,
    (request) => {
      const accepted = deps.runner.accept(request);
      return accepted.duplicate ? new Answer(200, accepted) : accepted;
    },
    bodyLimit({
      maxSize: MAX_CREATE_BYTES,
      onError: (c) =>
        errorResponse(c, "PAYLOAD_TOO_LARGE", `the request body is larger than ${MAX_CREATE_BYTES} bytes`),
    }),
  );

  contractRoute(app, boxAgentContract.runs.get, ({ id }) => {
    const run = deps.runner.get(id);
    if (run === undefined) {
      throw notFound(id);
    }
    return run;
  });

  contractRoute(app, boxAgentContract.runs.cancel, async ({ id }) => {
    try {
      return await deps.runner.cancel(id);
    } catch (error) {
      throw error instanceof RunNotFoundError ? notFound(id) : error;
    }
  });

  contractStreamRoute(app, boxAgentContract.runs.events, ({ id }, c) => {
    if (deps.runner.get(id) === undefined) {
      throw notFound(id);
    }
    const afterSeq = lastEventId(c.req.header("last-event-id"));
    return streamSSE(c, (stream) => streamRunEvents(stream, id, afterSeq, deps));
  });

  return app;
}
