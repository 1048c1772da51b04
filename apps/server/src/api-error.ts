import { type ApiErrorCode, apiErrorBody } from "@vps-claude/api";
import type { Context } from "hono";

/**
 * A Hono route's error answer: one code of the API's closed set, in the body shape `/rpc` answers
 * (`{ code, status, message }`), with the status that code maps to.
 */
export function errorResponse(c: Context, code: ApiErrorCode, message: string): Response {
  const body = apiErrorBody(code, message);
  return c.json(body, body.status);
}
