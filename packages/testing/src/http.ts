import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as a fake received it, before any auth or validation decided its fate. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/emails`. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  receivedAt: Date;
}

/**
 * What a fake answers. `drop` destroys the socket without a response, which clients see as a
 * network error (ECONNRESET / "fetch failed") — the case retry logic must survive.
 */
export type FakeResponse =
  | { status: number; headers?: Record<string, string>; json?: unknown; body?: Buffer | string }
  | { drop: true };

/**
 * An injected failure. Without `body` each fake fills in its service's own error shape for the
 * status, so tests exercise the client's real error parsing.
 */
export type FakeFailure =
  | { status: number; body?: unknown; headers?: Record<string, string>; message?: string }
  | { drop: true };

export interface FakeHttpServer {
  url: string;
  close(): Promise<void>;
}

export type FakeHandler = (request: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

export async function startFakeHttpServer(handler: FakeHandler): Promise<FakeHttpServer> {
  const server = createServer((req, res) => {
    void serve(req, res, handler);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets from SDK fetches would otherwise hold close() open until they time out.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, handler: FakeHandler): Promise<void> {
  let response: FakeResponse;
  try {
    const request = await readRequest(req);
    response = await handler(request);
  } catch (err) {
    // A bug in the fake must be loud in the test output, not look like a service failure.
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    response = { status: 599, json: { fake_error: message } };
  }
  if ("drop" in response) {
    req.socket.destroy();
    return;
  }
  const headers: Record<string, string> = { ...response.headers };
  let body: Buffer | string | undefined = response.body;
  if (response.json !== undefined) {
    body = JSON.stringify(response.json);
    headers["content-type"] ??= "application/json";
  }
  res.writeHead(response.status, headers);
  res.end(body);
}

async function readRequest(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) {
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
  }
  return {
    method: req.method ?? "GET",
    path: url.pathname,
    query: url.searchParams,
    headers,
    body: Buffer.concat(chunks),
    receivedAt: new Date(),
  };
}

/** Failures queued by a test, consumed one per matching request. */
export class FailureQueue<Stage extends string = string> {
  private readonly pending: { failure: FakeFailure; stage: Stage | undefined }[] = [];

  push(failure: FakeFailure, times: number, stage?: Stage): void {
    for (let i = 0; i < times; i++) {
      this.pending.push({ failure, stage });
    }
  }

  /** Removes and returns the first failure queued for this stage (or for any stage). */
  take(stage?: Stage): FakeFailure | undefined {
    const index = this.pending.findIndex((entry) => entry.stage === undefined || entry.stage === stage);
    if (index < 0) {
      return undefined;
    }
    const [entry] = this.pending.splice(index, 1);
    return entry?.failure;
  }

  get size(): number {
    return this.pending.length;
  }
}

/** Turns a queued failure into a response, asking the fake for its service's error body. */
export function failureResponse(
  failure: FakeFailure,
  errorBody: (status: number, message: string | undefined) => unknown,
): FakeResponse {
  if ("drop" in failure) {
    return failure;
  }
  return {
    status: failure.status,
    headers: failure.headers,
    json: failure.body ?? errorBody(failure.status, failure.message),
  };
}

export function json(status: number, value: unknown, headers?: Record<string, string>): FakeResponse {
  return { status, json: value, headers };
}

/** Parses a JSON body; `undefined` when it is empty or not JSON (each fake answers that its own way). */
export function parseJsonBody(request: RecordedRequest): unknown {
  if (request.body.length === 0) {
    return undefined;
  }
  try {
    return JSON.parse(request.body.toString("utf8"));
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function bearerToken(request: RecordedRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1]?.trim();
}
