import type { BoxAgentInput, BoxAgentOutput, BoxAgentProcedureKey } from "@vps-claude/contract/box-agent";
import type { box } from "@vps-claude/db";

type BoxRow = typeof box.$inferSelect;

export interface BoxAgentCallOptions {
  /** Lets box-agent drop a repeated delivery. */
  idempotencyKey?: string;
  timeoutMs?: number;
}

/** A route without input (`health`) takes none; every other one takes the contract's input. */
export type BoxAgentCallArgs<K extends BoxAgentProcedureKey> =
  unknown extends BoxAgentInput<K>
    ? [input?: undefined, options?: BoxAgentCallOptions]
    : [input: BoxAgentInput<K>, options?: BoxAgentCallOptions];

/** How a stream is opened and when it counts as dropped. */
export interface BoxAgentStreamOptions {
  /** Resume after this event (`Last-Event-ID`); every event when omitted or 0. */
  lastEventId?: number;
  /** Ends the stream (the only overall limit: a stream lasts as long as what it follows). */
  signal?: AbortSignal;
  /** Nothing at all (no event, no keep-alive comment) for this long → {@link BoxUnreachableError}; 60 s by default. */
  idleTimeoutMs?: number;
  /** How long the box may take to answer the request's headers (a sleeping sprite wakes first); 60 s by default. */
  headersTimeoutMs?: number;
}

/** The routes that answer `text/event-stream`: their output schema is one event's `data`. */
export type BoxAgentStreamKey = Extract<BoxAgentProcedureKey, "runs.events">;

/**
 * A 2xx answer, parsed against the contract's output schema, or box-agent's own refusal (4xx/5xx)
 * with its message. Whatever else the box does (redirect, oversize, not JSON, wrong shape) is thrown
 * as a {@link BoxBadAnswerError}.
 */
export type BoxAgentResponse<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; message: string };

/**
 * How the platform talks to a box's daemon: wake the sandbox, then call one route of
 * `boxAgentContract` through its URL with the box token, e.g. `call(box, "email.receive", email)`.
 */
export interface BoxAgentClient {
  call<K extends BoxAgentProcedureKey>(
    target: BoxRow,
    procedure: K,
    ...args: BoxAgentCallArgs<NoInfer<K>>
  ): Promise<BoxAgentResponse<BoxAgentOutput<K>>>;
  /**
   * Opens a server-sent event stream of box-agent, e.g. `stream(box, "runs.events", { id })`: a
   * refusal (4xx/5xx) comes back as with `call`; a 2xx gives the events, each checked against the
   * route's output schema, until the box ends the stream. Iterate it to the end or abort `signal`,
   * else the connection stays open. A bad event, a redirect, an answer that is not
   * `text/event-stream`, an event over the route's `maxAnswerBytes` throw {@link BoxBadAnswerError};
   * a dropped or silent stream throws {@link BoxUnreachableError}.
   */
  stream<K extends BoxAgentStreamKey>(
    target: BoxRow,
    procedure: K,
    input: BoxAgentInput<NoInfer<K>>,
    options?: BoxAgentStreamOptions,
  ): Promise<BoxAgentResponse<AsyncIterable<BoxAgentOutput<K>>>>;
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
