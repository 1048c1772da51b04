import { createORPCClient, ORPCError } from "@orpc/client";
import type { ContractRouterClient } from "@orpc/contract";
import type { JsonifiedClient } from "@orpc/openapi-client";
import { OpenAPILink } from "@orpc/openapi-client/fetch";
import {
  type BoxInputs,
  type BoxOutputs,
  boxContract,
  errorAnswerSchema,
  type JsonOf,
} from "@vps-claude/contract";

/** How box-agent talks to the platform's `/box/*` API, authenticated with the box token; typed from `boxContract`. */

type BoxApi = JsonifiedClient<ContractRouterClient<typeof boxContract>>;

export type Cronjob = JsonOf<BoxOutputs["cronjob"]["create"]>;
export type CronjobInput = BoxInputs["cronjob"]["create"];
export type CronjobPatch = Omit<BoxInputs["cronjob"]["update"], "id">;
export type SendEmailInput = BoxInputs["email"]["send"];
export type QueuedEmail = BoxOutputs["email"]["send"];

/** A platform answer handed on as it came, for the routes that proxy to the platform. */
export interface PlatformAnswer {
  status: number;
  contentType: string | undefined;
  text: string;
}

export class BoxApiError extends Error {
  override name = "BoxApiError";
  readonly status: number | undefined;
  readonly code: string;

  constructor(message: string, options: { status?: number; code: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.code = options.code;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface BoxApiClientOptions {
  serverUrl: string;
  boxSecret: string;
  /** Per request; the platform answers these from its database, so a slow answer means trouble. */
  timeoutMs?: number;
  /** Sent on every call besides the token, e.g. `x-vps-run-id` from the MCP server of a run. */
  headers?: Record<string, string>;
}

export class BoxApiClient {
  private readonly serverUrl: string;
  private readonly boxSecret: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly api: BoxApi;

  constructor(options: BoxApiClientOptions) {
    this.serverUrl = options.serverUrl.replace(/\/+$/, "");
    this.boxSecret = options.boxSecret;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.headers = options.headers ?? {};
    this.api = createORPCClient(
      new OpenAPILink(boxContract, {
        url: `${this.serverUrl}/box`,
        headers: { ...this.headers, "x-box-secret": this.boxSecret, accept: "application/json" },
        fetch: async (request) => {
          const response = await this.fetch(request);
          // A redirect is not an answer: never followed, and not passed off as a success either.
          if (response.status >= 300 && response.status < 400) {
            const what = `${request.method} ${new URL(request.url).pathname}`;
            throw new BoxApiError(`the platform answered ${what} with HTTP ${response.status}`, {
              status: response.status,
              code: `HTTP_${response.status}`,
            });
          }
          return response;
        },
        // The platform's refusals are `{ code, message }` (oRPC routes add `status` and `defined`; Hono's not).
        customErrorResponseBodyDecoder: (body, response) => {
          const parsed = errorAnswerSchema.safeParse(body);
          return new ORPCError(parsed.data?.code ?? `HTTP_${response.status}`, {
            status: response.status,
            message: parsed.data?.message ?? "",
          });
        },
      }),
    );
  }

  listCronjobs(): Promise<Cronjob[]> {
    return this.request("GET /box/cronjobs", () => this.api.cronjob.list());
  }

  createCronjob(input: CronjobInput): Promise<Cronjob> {
    return this.request("POST /box/cronjobs", () => this.api.cronjob.create(input));
  }

  updateCronjob(id: string, patch: CronjobPatch): Promise<Cronjob> {
    return this.request(`PUT /box/cronjobs/${encodeURIComponent(id)}`, () =>
      this.api.cronjob.update({ ...patch, id }),
    );
  }

  async deleteCronjob(id: string): Promise<void> {
    await this.request(`DELETE /box/cronjobs/${encodeURIComponent(id)}`, () =>
      this.api.cronjob.delete({ id }),
    );
  }

  toggleCronjob(id: string): Promise<Cronjob> {
    return this.request(`POST /box/cronjobs/${encodeURIComponent(id)}/toggle`, () =>
      this.api.cronjob.toggle({ id }),
    );
  }

  sendEmail(input: SendEmailInput): Promise<QueuedEmail> {
    return this.request("POST /box/email/send", () => this.api.email.send(input));
  }

  /** Calls the platform and returns its answer whatever the status; throws only when it cannot be reached. */
  async forward(method: string, path: string, body: unknown): Promise<PlatformAnswer> {
    const request = new Request(`${this.serverUrl}${path}`, {
      method,
      headers: {
        ...this.headers,
        "x-box-secret": this.boxSecret,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const response = await this.fetch(request);
    const text = await this.read(response, request);
    return { status: response.status, contentType: response.headers.get("content-type") ?? undefined, text };
  }

  /** Every call: bounded in time, never following a redirect, and "unreachable" said the same way. */
  private async fetch(request: Request): Promise<Response> {
    try {
      return await fetch(request, { redirect: "manual", signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw this.unreachable(request, error);
    }
  }

  private async read(response: Response, request: Request): Promise<string> {
    try {
      return await response.text();
    } catch (error) {
      throw this.unreachable(request, error);
    }
  }

  private unreachable(request: Request, error: unknown): BoxApiError {
    const what = `${request.method} ${new URL(request.url).pathname}`;
    const reason = error instanceof Error && error.name === "TimeoutError" ? "timed out" : String(error);
    return new BoxApiError(`could not reach the platform at ${this.serverUrl} (${what}): ${reason}`, {
      code: "UNREACHABLE",
      cause: error,
    });
  }

  /** The platform's refusal keeps its status, code and message; anything else names the call. */
  private async request<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof BoxApiError) {
        throw error;
      }
      if (error instanceof ORPCError) {
        throw new BoxApiError(error.message || `the platform answered ${what} with HTTP ${error.status}`, {
          status: error.status,
          code: error.code,
          cause: error,
        });
      }
      throw new BoxApiError(
        `the platform's answer to ${what} is not what box-agent expects: ${describe(error)}`,
        {
          code: "BAD_RESPONSE",
          cause: error,
        },
      );
    }
  }
}
