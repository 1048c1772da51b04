import {
  type BoxAgentInput,
  type BoxAgentOutput,
  type BoxAgentProcedureKey,
  boxAgentProcedure,
  DEFAULT_BOX_ANSWER_MAX_BYTES,
} from "@vps-claude/contract/box-agent";
import type { box, Database } from "@vps-claude/db";
import type { Keyring } from "@vps-claude/shared";
import { BodyTooLargeError, readBoundedBody, type SpritesClient } from "@vps-claude/sprites";
import { getBoxToken } from "../box/authenticate-box";
import {
  type BoxAgentCallArgs,
  type BoxAgentClient,
  type BoxAgentResponse,
  type BoxAgentStreamKey,
  type BoxAgentStreamOptions,
  BoxBadAnswerError,
  BoxUnreachableError,
  describeBox,
} from "./box-agent-client";
import { readServerSentEvents } from "./read-server-sent-events";

type BoxRow = typeof box.$inferSelect;

/** box-agent's refusals are `{ code, message }`; more than this is not a refusal worth reading. */
const ERROR_ANSWER_MAX_BYTES = 64 * 1024;
const ERROR_MESSAGE_MAX_CHARS = 500;

const mediaType = (response: Response) =>
  (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();

const isJson = (response: Response) => mediaType(response) === "application/json";

/** Silence after which an event stream counts as dropped: box-agent sends a keep-alive every 15 s. */
const STREAM_IDLE_TIMEOUT_MS = 60_000;
/** How long a box may take to answer a stream's headers (waking a sleeping sprite included). */
const STREAM_HEADERS_TIMEOUT_MS = 60_000;

interface Issue {
  message: string;
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined;
}

function describeIssues(issues: readonly Issue[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const path = (issue.path ?? []).map((part) => String(typeof part === "object" ? part.key : part));
      return `${path.length > 0 ? path.join(".") : "(root)"}: ${issue.message}`;
    })
    .join("; ");
}

/**
 * The HTTP request of one contract route, the way box-agent reads it: path params from the input,
 * the rest as the query of a GET or the JSON body of a POST (none when the path has params).
 */
function toHttpRequest(
  route: { method?: string; path?: string },
  input: unknown,
): { method: string; path: string; body?: unknown } {
  const method = route.method ?? "POST";
  const rest: Record<string, unknown> =
    typeof input === "object" && input !== null ? { ...(input as Record<string, unknown>) } : {};
  const template = route.path ?? "/";
  const hasParams = /\{\w+\}/.test(template);
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = rest[name];
    delete rest[name];
    return encodeURIComponent(String(value ?? ""));
  });
  if (method === "GET") {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) {
        query.set(key, String(value));
      }
    }
    const search = query.toString();
    return { method, path: search === "" ? path : `${path}?${search}` };
  }
  return hasParams || input === undefined ? { method, path } : { method, path, body: input };
}

async function readRefusal(response: Response): Promise<string> {
  try {
    const text = (await readBoundedBody(response, ERROR_ANSWER_MAX_BYTES)).toString("utf8");
    if (isJson(response)) {
      const message = (JSON.parse(text) as { message?: unknown }).message;
      if (typeof message === "string" && message !== "") {
        return message.slice(0, ERROR_MESSAGE_MAX_CHARS);
      }
    }
  } catch {
    // An unreadable refusal still has its status.
  }
  return `HTTP ${response.status}`;
}

type StandardSchema = NonNullable<ReturnType<typeof boxAgentProcedure>["~orpc"]["outputSchema"]>;

/** The value, or a {@link BoxBadAnswerError} naming what was wrong with it. */
async function checkShape(schema: StandardSchema | undefined, json: unknown, what: string): Promise<unknown> {
  const parsed = schema === undefined ? { value: json } : await schema["~standard"].validate(json);
  if (parsed.issues !== undefined) {
    throw new BoxBadAnswerError(`${what} with JSON of the wrong shape (${describeIssues(parsed.issues)})`);
  }
  return parsed.value;
}

interface SendOptions {
  accept: string;
  idempotencyKey?: string;
  lastEventId?: number;
  signal: AbortSignal;
}

/**
 * Reaches box-agent through the sprite's public URL; the request itself wakes a sleeping sprite
 * (Sprites resumes on traffic). Only the box's own token goes there, never the Sprites account token.
 *
 * Whatever answers is treated as hostile: redirects are refused rather than followed (a same-origin
 * `307` to the Sprites API, or one to a metadata address, must lead nowhere), bodies are read as a
 * bounded stream, JSON (or an event stream) is required and parsed against the route's output
 * schema in `boxAgentContract`.
 */
export function createSpritesBoxAgentClient({
  sprites,
  db,
  keyring,
}: {
  sprites: Pick<SpritesClient, "fetchSprite">;
  db: Database;
  keyring: Keyring;
}): BoxAgentClient {
  /** Sends one request; a refusal (4xx/5xx) is read here, a redirect thrown, any other answer returned to read. */
  async function send(
    target: BoxRow,
    request: { method: string; path: string; body?: unknown },
    options: SendOptions,
  ): Promise<{ ok: true; response: Response } | { ok: false; status: number; message: string }> {
    const who = describeBox(target);
    if (!target.spriteName) {
      throw new BoxUnreachableError(`${who} has no sandbox yet`);
    }
    const token = await getBoxToken({ db, keyring, boxId: target.id });
    if (!token) {
      throw new BoxUnreachableError(`${who} has no token`);
    }
    const headers: Record<string, string> = { "x-box-secret": token, accept: options.accept };
    if (request.body !== undefined) {
      headers["content-type"] = "application/json";
    }
    if (options.idempotencyKey) {
      headers["idempotency-key"] = options.idempotencyKey;
    }
    if (options.lastEventId) {
      headers["last-event-id"] = String(options.lastEventId);
    }
    let response: Response;
    try {
      response = await sprites.fetchSprite(target.spriteName, request.path, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: options.signal,
      });
    } catch (err) {
      throw new BoxUnreachableError(
        `${who} did not answer ${request.method} ${request.path}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => {});
      const location = (response.headers.get("location") ?? "").slice(0, 200);
      throw new BoxBadAnswerError(
        `${who} answered ${request.method} ${request.path} with a redirect (HTTP ${response.status}${location ? ` to ${location}` : ""}); the platform never follows a box's redirects`,
      );
    }
    if (response.status < 200 || response.status >= 300) {
      return { ok: false, status: response.status, message: await readRefusal(response) };
    }
    return { ok: true, response };
  }

  return {
    async call<K extends BoxAgentProcedureKey>(
      target: BoxRow,
      key: K,
      ...[input, options = {}]: BoxAgentCallArgs<K>
    ): Promise<BoxAgentResponse<BoxAgentOutput<K>>> {
      const procedure = boxAgentProcedure(key);
      const request = toHttpRequest(procedure["~orpc"].route, input);
      const who = describeBox(target);
      const sent = await send(target, request, {
        accept: "application/json",
        idempotencyKey: options.idempotencyKey,
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
      if (!sent.ok) {
        return sent;
      }
      const { response } = sent;
      if (!isJson(response)) {
        await response.body?.cancel().catch(() => {});
        throw new BoxBadAnswerError(
          `${who} answered ${request.method} ${request.path} with '${(response.headers.get("content-type") ?? "no content type").slice(0, 100)}' where JSON (application/json) was expected`,
        );
      }
      const maxBytes = procedure["~orpc"].meta.maxAnswerBytes ?? DEFAULT_BOX_ANSWER_MAX_BYTES;
      let text: string;
      try {
        text = (await readBoundedBody(response, maxBytes)).toString("utf8");
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          throw new BoxBadAnswerError(
            `${who} answered ${request.method} ${request.path} with more than ${maxBytes} bytes; the answer was cut off and refused`,
          );
        }
        throw new BoxUnreachableError(
          `${who} broke off its answer to ${request.method} ${request.path}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new BoxBadAnswerError(
          `${who} answered ${request.method} ${request.path} with a body that is not valid JSON`,
        );
      }
      const what = `${who} answered ${request.method} ${request.path}`;
      const value = await checkShape(procedure["~orpc"].outputSchema, json, what);
      return { ok: true, status: response.status, body: value as BoxAgentOutput<K> };
    },

    async stream<K extends BoxAgentStreamKey>(
      target: BoxRow,
      key: K,
      input: BoxAgentInput<K>,
      options: BoxAgentStreamOptions = {},
    ): Promise<BoxAgentResponse<AsyncIterable<BoxAgentOutput<K>>>> {
      const procedure = boxAgentProcedure(key);
      const request = toHttpRequest(procedure["~orpc"].route, input);
      const source = `${describeBox(target)} ${request.method} ${request.path}`;
      // One controller for the whole request: the caller's signal and the headers deadline end it
      // while it opens; afterwards only the caller (or the reader, on a refusal or silence) does.
      const controller = new AbortController();
      const onAbort = () => controller.abort(options.signal?.reason);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (options.signal?.aborted) {
        onAbort();
      }
      const headersTimeoutMs = options.headersTimeoutMs ?? STREAM_HEADERS_TIMEOUT_MS;
      const headersTimer = setTimeout(
        () =>
          controller.abort(
            new BoxUnreachableError(`${source}: no answer within ${Math.round(headersTimeoutMs / 1000)} s`),
          ),
        headersTimeoutMs,
      );
      const release = () => {
        clearTimeout(headersTimer);
        options.signal?.removeEventListener("abort", onAbort);
      };
      let sent: Awaited<ReturnType<typeof send>>;
      try {
        sent = await send(target, request, {
          accept: "text/event-stream",
          lastEventId: options.lastEventId,
          signal: controller.signal,
        });
      } catch (err) {
        release();
        // The caller's own abort is not the box's fault: say so with the caller's reason.
        if (options.signal?.aborted) {
          throw options.signal.reason;
        }
        throw err;
      } finally {
        clearTimeout(headersTimer);
      }
      if (!sent.ok) {
        release();
        return sent;
      }
      const { response } = sent;
      if (mediaType(response) !== "text/event-stream" || !response.body) {
        release();
        await response.body?.cancel().catch(() => {});
        throw new BoxBadAnswerError(
          `${source} answered '${(response.headers.get("content-type") ?? "no content type").slice(0, 100)}' where an event stream (text/event-stream) was expected`,
        );
      }
      const schema = procedure["~orpc"].outputSchema;
      const maxEventBytes = procedure["~orpc"].meta.maxAnswerBytes ?? DEFAULT_BOX_ANSWER_MAX_BYTES;
      const body = response.body;
      async function* events(): AsyncGenerator<BoxAgentOutput<K>, void, undefined> {
        try {
          for await (const message of readServerSentEvents(body, {
            source,
            maxEventBytes,
            idleTimeoutMs: options.idleTimeoutMs ?? STREAM_IDLE_TIMEOUT_MS,
            signal: controller.signal,
          })) {
            let json: unknown;
            try {
              json = JSON.parse(message.data);
            } catch {
              throw new BoxBadAnswerError(`${source} sent an event whose data is not valid JSON`);
            }
            yield (await checkShape(schema, json, `${source} sent an event`)) as BoxAgentOutput<K>;
          }
        } finally {
          release();
          controller.abort();
        }
      }
      return { ok: true, status: response.status, body: events() };
    },
  };
}
