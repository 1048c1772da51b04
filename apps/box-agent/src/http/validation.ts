import type { Context } from "hono";
import { z } from "zod";
import { HttpError } from "./errors";

export async function parseJsonBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new HttpError("BAD_REQUEST", "the request body must be JSON");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new HttpError("BAD_REQUEST", z.prettifyError(parsed.error));
  }
  return parsed.data;
}

export function parseQuery<T>(c: Context, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) {
    throw new HttpError("BAD_REQUEST", z.prettifyError(parsed.error));
  }
  return parsed.data;
}
