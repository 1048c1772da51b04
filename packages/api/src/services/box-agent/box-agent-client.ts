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
