import {
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
  BoxBadAnswerError,
  BoxUnreachableError,
  describeBox,
} from "./box-agent-client";

type BoxRow = typeof box.$inferSelect;

/** box-agent's refusals are `{ code, message }`; more than this is not a refusal worth reading. */
const ERROR_ANSWER_MAX_BYTES = 64 * 1024;
const ERROR_MESSAGE_MAX_CHARS = 500;

function isJson(response: Response): boolean {
  const type = (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  return type === "application/json";
}

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

/**
 * Reaches box-agent through the sprite's public URL; the request itself wakes a sleeping sprite
 * (Sprites resumes on traffic). Only the box's own token goes there, never the Sprites account token.
 *
 * Whatever answers is treated as hostile: redirects are refused rather than followed (a same-origin
 * `307` to the Sprites API, or one to a metadata address, must lead nowhere), bodies are read as a
 * bounded stream, JSON is required and parsed against the route's output schema in `boxAgentContract`.
 */
export function createSpritesBoxAgentClient({
  sprites,
  db,
  keyring,
}: {
  sprites: SpritesClient;
  db: Database;
  keyring: Keyring;
}): BoxAgentClient {
  return {
    async call<K extends BoxAgentProcedureKey>(
      target: BoxRow,
      key: K,
      ...[input, options = {}]: BoxAgentCallArgs<K>
    ): Promise<BoxAgentResponse<BoxAgentOutput<K>>> {
      const procedure = boxAgentProcedure(key);
      const request = toHttpRequest(procedure["~orpc"].route, input);
      const who = describeBox(target);
      if (!target.spriteName) {
        throw new BoxUnreachableError(`${who} has no sandbox yet`);
      }
      const token = await getBoxToken({ db, keyring, boxId: target.id });
      if (!token) {
        throw new BoxUnreachableError(`${who} has no token`);
      }
      const headers: Record<string, string> = { "x-box-secret": token, accept: "application/json" };
      if (request.body !== undefined) {
        headers["content-type"] = "application/json";
      }
      if (options.idempotencyKey) {
        headers["idempotency-key"] = options.idempotencyKey;
      }
      const maxBytes = procedure["~orpc"].meta.maxAnswerBytes ?? DEFAULT_BOX_ANSWER_MAX_BYTES;
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
      let response: Response;
      try {
        response = await sprites.fetchSprite(target.spriteName, request.path, {
          method: request.method,
          headers,
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: timeout,
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
      if (!isJson(response)) {
        await response.body?.cancel().catch(() => {});
        throw new BoxBadAnswerError(
          `${who} answered ${request.method} ${request.path} with '${(response.headers.get("content-type") ?? "no content type").slice(0, 100)}' where JSON (application/json) was expected`,
        );
      }
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
      const schema = procedure["~orpc"].outputSchema;
      const parsed = schema === undefined ? { value: json } : await schema["~standard"].validate(json);
      if (parsed.issues !== undefined) {
        throw new BoxBadAnswerError(
          `${who} answered ${request.method} ${request.path} with JSON of the wrong shape (${describeIssues(parsed.issues)})`,
        );
      }
      return { ok: true, status: response.status, body: parsed.value as BoxAgentOutput<K> };
    },
  };
}
