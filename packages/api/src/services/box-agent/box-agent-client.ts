import type { box } from "@vps-claude/db";
import type { z } from "zod";

type BoxRow = typeof box.$inferSelect;

/** What a box answers by default at most; a call that expects more says so. */
export const DEFAULT_BOX_ANSWER_MAX_BYTES = 1024 * 1024;

export interface BoxAgentRequest<T> {
  method: "GET" | "POST";
  /** Path on box-agent, e.g. `/email/receive`. */
  path: string;
  body?: unknown;
  /** The shape of a 2xx answer (JSON); anything else from the box is refused. */
  schema: z.ZodType<T>;
  /** Lets box-agent drop a repeated delivery. */
  idempotencyKey?: string;
  timeoutMs?: number;
  /** Largest answer read, in bytes (default 1 MiB); a bigger one is cut off and refused. */
  maxBytes?: number;
}

/**
 * A 2xx answer, parsed against the request's schema, or box-agent's own refusal (4xx/5xx) with its
 * message. Whatever else the box does (redirect, oversize, not JSON, wrong shape) is thrown as a
 * {@link BoxBadAnswerError}.
 */
export type BoxAgentResponse<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; message: string };

/** How the platform talks to a box's daemon: wake the sandbox, then call through its URL with the box token. */
export interface BoxAgentClient {
  call<T>(target: BoxRow, request: BoxAgentRequest<T>): Promise<BoxAgentResponse<T>>;
}

/** The box could not be reached at all (no sandbox, no token, connection failed, timed out). */
export class BoxUnreachableError extends Error {
  override name = "BoxUnreachableError";
}

/**
 * The box answered something the platform refuses to use: a redirect, an answer over the size
 * limit, a body that is not the JSON expected. A box is hostile, so its answers are checked, never trusted.
 */
export class BoxBadAnswerError extends BoxUnreachableError {
  override name = "BoxBadAnswerError";
}

/** How a box is named in messages: its name for the owner, its id for the operator's logs. */
export const describeBox = (target: Pick<BoxRow, "id" | "name">) => `box '${target.name}' (${target.id})`;
