import type { Context, Handler, Hono, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { parseInput, parseJsonBody } from "./validation";

/** The part of an oRPC contract procedure a Hono route is built from. */
interface ContractProcedure<I extends z.ZodType, O extends z.ZodType> {
  "~orpc": {
    route: { method?: string; path?: string; successStatus?: number };
    inputSchema?: I;
    outputSchema?: O;
  };
}

/** An answer whose status is not the route's usual one (e.g. `200` for a duplicate where `202` is usual). */
export class Answer<T> {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly body: T,
  ) {}
}

/** `/email/{id}` (OpenAPI, as the contract spells paths) → `/email/:id` (Hono). */
const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");

function routeOf<I extends z.ZodType>(procedure: ContractProcedure<I, z.ZodType>) {
  const { route, inputSchema } = procedure["~orpc"];
  const { method = "POST", path, successStatus = 200 } = route;
  if (path === undefined || inputSchema === undefined) {
    throw new Error(`a box-agent contract route needs a path and an input schema (${method} ${path ?? "?"})`);
  }
  return { method, path, successStatus, inputSchema };
}

/**
 * Serves one route of box-agent's contract: the method and path are the contract's, the input is
 * parsed with its input schema (GET: the query and path params; POST: the JSON body, or the path
 * params when the path has some), and the handler must answer its output type.
 */
export function contractRoute<I extends z.ZodType, O extends z.ZodType>(
  app: Hono,
  procedure: ContractProcedure<I, O>,
  handler: (
    input: z.output<I>,
    c: Context,
  ) => z.input<O> | Answer<z.input<O>> | Promise<z.input<O> | Answer<z.input<O>>>,
  ...middleware: MiddlewareHandler[]
): void {
  const { method, path, successStatus, inputSchema } = routeOf(procedure);
  const hasParams = path.includes("{");
  const serve: Handler = async (c) => {
    const input =
      method === "GET"
        ? parseInput(inputSchema, { ...c.req.query(), ...c.req.param() })
        : hasParams
          ? parseInput(inputSchema, c.req.param())
          : await parseJsonBody(c, inputSchema);
    const answer = await handler(input, c);
    return answer instanceof Answer
      ? c.json(answer.body, answer.status)
      : c.json(answer, successStatus as ContentfulStatusCode);
  };
  app.on(method, [honoPath(path)], ...middleware, serve);
}

/**
 * Serves a GET route of the contract whose answer is not one JSON body (an event stream): the
 * input is parsed from the query and path params as for {@link contractRoute}; the handler answers.
 */
export function contractStreamRoute<I extends z.ZodType>(
  app: Hono,
  procedure: ContractProcedure<I, z.ZodType>,
  handler: (input: z.output<I>, c: Context) => Response | Promise<Response>,
): void {
  const { method, path, inputSchema } = routeOf(procedure);
  app.on(method, [honoPath(path)], (c) =>
    handler(parseInput(inputSchema, { ...c.req.query(), ...c.req.param() }), c),
  );
}
