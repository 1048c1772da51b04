import type { box } from "@vps-claude/db";

type BoxRow = typeof box.$inferSelect;

export interface BoxAgentRequest {
  method: "GET" | "POST";
  /** Path on box-agent, e.g. `/email/receive`. */
  path: string;
  body?: unknown;
  /** Lets box-agent drop a repeated delivery. */
  idempotencyKey?: string;
  timeoutMs?: number;
}

export interface BoxAgentResponse {
  status: number;
  body: unknown;
}

/** How the platform talks to a box's daemon: wake the sandbox, then call through its URL with the box token. */
export interface BoxAgentClient {
  call(target: BoxRow, request: BoxAgentRequest): Promise<BoxAgentResponse>;
}

export class BoxUnreachableError extends Error {
  override name = "BoxUnreachableError";
}
