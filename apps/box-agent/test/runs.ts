import {
  type AgentRun,
  type RunCreateInput,
  type RunEnd,
  type RunEvent,
  runEventSchema,
} from "@vps-claude/contract/box-agent";
import { expect } from "vitest";

/** What the tests need of a box: its HTTP API with the box token. */
export interface RunsClient {
  request(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
}

/** A client of a box-agent at `url` (read at each call, so it may follow a restart). */
export function boxClient(url: () => string, secret: string): RunsClient {
  return {
    request: (path, init = {}) =>
      fetch(`${url()}${path}`, {
        method: init.method ?? (init.body === undefined ? "GET" : "POST"),
        headers: {
          "x-box-secret": secret,
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
          ...init.headers,
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      }),
  };
}

let counter = 0;

/** The agent config the platform would resolve for a trigger. */
export function testAgent(label = "chat"): RunCreateInput["agent"] {
  return {
    model: "claude-sonnet-4-5",
    systemPrompt: `You are the agent of a test box (${label}).`,
    mcpServers: {},
  };
}

/** A dispatch as the platform sends it to `POST /runs`: a chat message unless told otherwise. */
export function runRequest(overrides: Partial<RunCreateInput> & { message?: string } = {}): RunCreateInput {
  counter++;
  const { message = `hello ${counter}`, ...rest } = overrides;
  return {
    runId: `run_test${counter}${Date.now().toString(36)}`,
    trigger: "chat",
    contextType: "session",
    contextId: `chat-${counter}`,
    session: "continue",
    task: { kind: "message", message },
    agent: testAgent(rest.trigger ?? "chat"),
    limits: { maxDurationMs: 120_000 },
    ...rest,
  };
}

export async function dispatch(
  box: RunsClient,
  request: RunCreateInput,
): Promise<{ runId: string; status: string; duplicate?: boolean; events: RunEvent[] }> {
  const res = await box.request("/runs", { body: request });
  const body = (await res.json()) as {
    runId: string;
    status: string;
    duplicate?: boolean;
    events: RunEvent[];
  };
  expect(res.status, JSON.stringify(body)).toBe(202);
  return body;
}

export async function getRun(box: RunsClient, runId: string): Promise<AgentRun> {
  const res = await box.request(`/runs/${runId}`);
  const body = (await res.json()) as AgentRun;
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

export interface EventStream {
  /** Events received so far, each parsed against the contract's `runEventSchema`. */
  events: RunEvent[];
  /** SSE `id:` of each event, in order. */
  ids: string[];
  /** Settles when box-agent closes the stream, with every event received. */
  closed: Promise<RunEvent[]>;
  /** Resolves once an event matching `test` has arrived. */
  next(test: (event: RunEvent) => boolean): Promise<RunEvent>;
  cancel(): Promise<void>;
}

/** Follows `GET /runs/{id}/events` as the platform does, parsing frames as they arrive. */
export async function followEvents(
  box: RunsClient,
  runId: string,
  lastEventId?: number,
): Promise<EventStream> {
  const res = await box.request(`/runs/${runId}/events`, {
    headers: lastEventId === undefined ? {} : { "last-event-id": String(lastEventId) },
  });
  expect(res.status, res.status === 200 ? "" : await res.clone().text()).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const body = res.body;
  if (body === null) {
    throw new Error("the event stream has no body");
  }
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const events: RunEvent[] = [];
  const ids: string[] = [];
  const waiters: Array<{ test: (event: RunEvent) => boolean; resolve: (event: RunEvent) => void }> = [];

  const onFrame = (frame: string) => {
    const lines = frame.split("\n").filter((line) => !line.startsWith(":"));
    if (lines.length === 0) {
      return;
    }
    const field = (name: string) =>
      lines.filter((line) => line.startsWith(`${name}: `)).map((line) => line.slice(name.length + 2));
    const event = runEventSchema.parse(JSON.parse(field("data").join("\n")));
    expect(field("event")[0], "the SSE event name is the event's type").toBe(event.type);
    expect(field("id")[0], "the SSE id is the event's seq").toBe(String(event.seq));
    events.push(event);
    ids.push(String(event.seq));
    for (const waiter of [...waiters]) {
      if (waiter.test(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  };

  const closed = (async () => {
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return events;
      }
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        onFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
      }
    }
  })();
  // A test that stops following (or a daemon that dies) must not leave an unhandled rejection.
  closed.catch(() => undefined);

  return {
    events,
    ids,
    closed,
    next(test) {
      const seen = events.find(test);
      if (seen !== undefined) {
        return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        closed.then(
          () => reject(new Error(`the stream of ${runId} closed without the awaited event`)),
          reject,
        );
      });
    },
    cancel: () => reader.cancel(),
  };
}

export function doneOf(events: RunEvent[]): RunEnd {
  const done = events.at(-1);
  if (done?.type !== "done") {
    throw new Error(`the stream did not end with done: ${JSON.stringify(events.map((e) => e.type))}`);
  }
  return done.run;
}

/** Dispatches a run and follows its events until `done`. */
export async function runToEnd(
  box: RunsClient,
  request: RunCreateInput,
): Promise<{ runId: string; events: RunEvent[]; end: RunEnd }> {
  const { runId } = await dispatch(box, request);
  const events = await (await followEvents(box, runId)).closed;
  return { runId, events, end: doneOf(events) };
}
