import http from "node:http";
import type { AddressInfo } from "node:net";
import { RUN_EVENT_MAX_BYTES } from "@vps-claude/contract/box-agent";
import { boxEmailSettings } from "@vps-claude/db";
import {
  createKeyring,
  encryptSecret,
  generateBoxToken,
  generateEncryptionKey,
  newId,
} from "@vps-claude/shared";
import { openScratchDatabase, seedUserWithBox } from "@vps-claude/testing/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BoxBadAnswerError, BoxUnreachableError } from "./box-agent-client";
import { readServerSentEvents } from "./read-server-sent-events";
import { createSpritesBoxAgentClient } from "./sprites-box-agent-client";

/**
 * The platform's reading of box-agent's event streams, against a real HTTP server on loopback that
 * answers each request as the test says: well-formed streams, split and odd line endings, silence,
 * oversized events, redirects, wrong content types, events of the wrong shape.
 */

type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let answer: Answer = (_req, res) => res.end();
const requests: http.IncomingMessage[] = [];
/** Requests whose connection closed before the answer ended: the reader let go of them. */
let cutOff = 0;
let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req);
    res.on("close", () => {
      if (!res.writableFinished) {
        cutOff++;
      }
    });
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const sse = (res: http.ServerResponse) => {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
};

async function open(path = "/stream") {
  const response = await fetch(`${baseUrl}${path}`);
  if (!response.body) {
    throw new Error("no body");
  }
  return response.body;
}

async function collect<T>(events: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const event of events) {
    out.push(event);
  }
  return out;
}

const options = { source: "box 'Test' (box_1) GET /stream", maxEventBytes: 1024, idleTimeoutMs: 10_000 };

describe("readServerSentEvents", () => {
  it("reads events split anywhere, with CRLF, CR or LF line ends, skipping comments and retry fields", async () => {
    answer = (_req, res) => {
      sse(res);
      const wire =
        ': keep-alive\n\nid: 1\r\nevent: text\r\ndata: {"a":\r\ndata: 1}\r\n\r\nretry: 5\n\nid: 2\revent: done\rdata: ü€\r\r';
      const bytes = Buffer.from(wire);
      let at = 0;
      // One byte at a time, so a multi-byte character and every line end are split.
      const next = () => {
        if (at >= bytes.length) {
          res.end();
          return;
        }
        res.write(bytes.subarray(at, at + 1));
        at++;
        setImmediate(next);
      };
      next();
    };
    const events = await collect(readServerSentEvents(await open(), options));
    expect(events).toEqual([
      { id: "1", event: "text", data: '{"a":\n1}' },
      { id: "2", event: "done", data: "ü€" },
    ]);
  });

  it("takes a silent stream as dropped (BoxUnreachableError) and lets go of the connection", async () => {
    const before = cutOff;
    answer = (_req, res) => {
      sse(res);
      res.write("id: 1\nevent: text\ndata: {}\n\n");
    };
    const seen: unknown[] = [];
    const reading = (async () => {
      for await (const event of readServerSentEvents(await open(), { ...options, idleTimeoutMs: 300 })) {
        seen.push(event);
      }
    })();
    await expect(reading).rejects.toThrow(BoxUnreachableError);
    await expect(reading).rejects.toThrow(/sent nothing for/);
    expect(seen).toHaveLength(1);
    await expect.poll(() => cutOff).toBe(before + 1);
  });

  it("refuses an event over the limit, and bytes that never end an event, cutting the stream off", async () => {
    for (const body of [`data: ${"x".repeat(2_000)}\n\n`, `data: ${"x".repeat(100)}\n`.repeat(1_000)]) {
      const before = cutOff;
      answer = (_req, res) => {
        sse(res);
        res.write(body);
        // Never ends by itself: the reader must be the one to stop.
      };
      const reading = collect(readServerSentEvents(await open(), options));
      await expect(reading).rejects.toThrow(BoxBadAnswerError);
      await expect(reading).rejects.toThrow(/larger than 1024 bytes/);
      await expect.poll(() => cutOff).toBe(before + 1);
    }
  });

  it("stops reading and closes the connection when the caller stops early", async () => {
    const before = cutOff;
    answer = (_req, res) => {
      sse(res);
      res.write("data: 1\n\ndata: 2\n\n");
    };
    for await (const event of readServerSentEvents(await open(), options)) {
      expect(event.data).toBe("1");
      break;
    }
    await expect.poll(() => cutOff).toBe(before + 1);
  });
});

describe("BoxAgentClient.stream", () => {
  let scratch: Awaited<ReturnType<typeof openScratchDatabase>>;
  const keyring = createKeyring(generateEncryptionKey());
  const token = generateBoxToken();
  let target: Awaited<ReturnType<typeof seedUserWithBox>>["box"];
  let client: ReturnType<typeof createSpritesBoxAgentClient>;

  beforeAll(async () => {
    scratch = await openScratchDatabase();
    ({ box: target } = await seedUserWithBox(scratch.db, { boxName: "Streamer" }));
    target = { ...target, spriteName: "sprite-under-test" };
    const settingsId = newId("emailSettings");
    await scratch.db.insert(boxEmailSettings).values({
      id: settingsId,
      boxId: target.id,
      agentSecret: encryptSecret(keyring, token, `box_email_settings:${settingsId}`),
      agentSecretHash: `hash-${settingsId}`,
    });
    // The sprite URL is this test's server; like the real fetchSprite, redirects come back unfollowed.
    client = createSpritesBoxAgentClient({
      sprites: {
        fetchSprite: (_name, path, init) => fetch(`${baseUrl}${path}`, { ...init, redirect: "manual" }),
      },
      db: scratch.db,
      keyring,
    });
  });

  afterAll(async () => {
    await scratch?.close();
  });

  const runId = "run_01jtestrun";
  const event = (seq: number, extra: Record<string, unknown>) =>
    JSON.stringify({ seq, at: new Date().toISOString(), ...extra });

  it("opens the run's events with the box token and Last-Event-ID, and yields each event checked", async () => {
    requests.length = 0;
    answer = (_req, res) => {
      sse(res);
      res.write(`id: 3\nevent: text\ndata: ${event(3, { type: "text", text: "hello" })}\n\n`);
      res.write(": keep-alive\n\n");
      const end = {
        status: "completed",
        sessionId: "s1",
        result: "hi",
        error: null,
        durationMs: 5,
        costUsd: 0.1,
        inputTokens: 1,
        outputTokens: 2,
        cacheReadTokens: null,
        cacheWriteTokens: null,
      };
      res.end(`id: 4\nevent: done\ndata: ${event(4, { type: "done", run: end })}\n\n`);
    };
    const opened = await client.stream(target, "runs.events", { id: runId }, { lastEventId: 2 });
    expect(opened.ok).toBe(true);
    const events = opened.ok ? await collect(opened.body) : [];
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [3, "text"],
      [4, "done"],
    ]);
    const [request] = requests;
    expect(request?.url).toBe(`/runs/${runId}/events`);
    expect(request?.headers["x-box-secret"]).toBe(token);
    expect(request?.headers["last-event-id"]).toBe("2");
    expect(request?.headers.accept).toBe("text/event-stream");
  });

  it("answers box-agent's refusal as a refusal (404: it has no such run)", async () => {
    answer = (_req, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "NOT_FOUND", message: "no run run_01jtestrun" }));
    };
    const opened = await client.stream(target, "runs.events", { id: runId });
    expect(opened).toEqual({ ok: false, status: 404, message: "no run run_01jtestrun" });
  });

  it("refuses a redirect, an answer that is not an event stream, and an event of the wrong shape, naming the box", async () => {
    answer = (_req, res) => {
      res.writeHead(307, { location: "http://169.254.169.254/latest/meta-data/" });
      res.end();
    };
    await expect(client.stream(target, "runs.events", { id: runId })).rejects.toThrow(
      /box 'Streamer' .*redirect \(HTTP 307 to http:\/\/169\.254\.169\.254/,
    );

    answer = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("[]");
    };
    await expect(client.stream(target, "runs.events", { id: runId })).rejects.toThrow(
      /'application\/json' where an event stream \(text\/event-stream\) was expected/,
    );

    for (const data of [
      "not json",
      event(1, { type: "text", text: 42 }),
      event(0, { type: "text", text: "x" }),
    ]) {
      answer = (_req, res) => {
        sse(res);
        res.write(`data: ${data}\n\n`);
      };
      const opened = await client.stream(target, "runs.events", { id: runId });
      const reading = opened.ok ? collect(opened.body) : Promise.resolve([]);
      await expect(reading).rejects.toThrow(BoxBadAnswerError);
      await expect(reading).rejects.toThrow(
        new RegExp(`box 'Streamer' \\(${target.id}\\) GET /runs/${runId}/events sent an event`),
      );
    }
  });

  it("refuses an event over the route's limit (RUN_EVENT_MAX_BYTES)", async () => {
    answer = (_req, res) => {
      sse(res);
      res.write(`data: ${event(1, { type: "text", text: "x".repeat(RUN_EVENT_MAX_BYTES) })}\n\n`);
    };
    const opened = await client.stream(target, "runs.events", { id: runId });
    const reading = opened.ok ? collect(opened.body) : Promise.resolve([]);
    await expect(reading).rejects.toThrow(/larger than 1048576 bytes/);
  });

  it("ends when the caller aborts, with the caller's reason", async () => {
    answer = (_req, res) => {
      sse(res);
      res.write(`data: ${event(1, { type: "text", text: "first" })}\n\n`);
    };
    const controller = new AbortController();
    const opened = await client.stream(target, "runs.events", { id: runId }, { signal: controller.signal });
    const reason = new Error("the worker is closing");
    const reading = (async () => {
      if (!opened.ok) {
        return;
      }
      for await (const _ of opened.body) {
        controller.abort(reason);
      }
    })();
    await expect(reading).rejects.toBe(reason);
  });
});
