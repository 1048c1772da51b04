import type { Context } from "hono";
import { z } from "zod";
import { HttpError } from "./errors";

export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError("BAD_REQUEST", z.prettifyError(parsed.error));
  }
  return parsed.data;
}

export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new HttpError("BAD_REQUEST", "the request body must be JSON");
  }
  return parseInput(schema, body);
}
