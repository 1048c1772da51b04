import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The closed set of error codes box-agent answers with; the status for each is decided here only. */
const STATUS_BY_CODE = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL: 500,
  BAD_GATEWAY: 502,
  SHUTTING_DOWN: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof STATUS_BY_CODE;

export class HttpError extends Error {
  override name = "HttpError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function errorResponse(c: Context, code: ErrorCode, message: string): Response {
  return c.json({ code, message }, STATUS_BY_CODE[code]);
}
