import { z } from "zod";

/** How box-agent talks to the platform's `/box/*` API, authenticated with the box token. */

const stdioServerSchema = z.object({
  type: z.literal("stdio"),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
});

const remoteServerSchema = z.object({
  type: z.enum(["http", "sse"]),
  url: z.url(),
  headers: z.record(z.string(), z.string()).default({}),
});

export const mcpServerConfigSchema = z.discriminatedUnion("type", [stdioServerSchema, remoteServerSchema]);
export type McpServerConfig = z.infer<typeof mcpServerConfigSchema>;

/** MCP server names become part of tool names (`mcp__<name>__<tool>`), so they stay simple. */
const mcpServerNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '_' and '-' only");

export const agentConfigSchema = z.object({
  triggerType: z.enum(["email", "cron", "session"]),
  model: z.string().min(1),
  systemPrompt: z.string(),
  mcpServers: z.record(mcpServerNameSchema, mcpServerConfigSchema).default({}),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

export const cronjobSchema = z.object({
  id: z.string(),
  boxId: z.string(),
  name: z.string(),
  schedule: z.string(),
  prompt: z.string(),
  timezone: z.string().nullish(),
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Cronjob = z.infer<typeof cronjobSchema>;

export interface CronjobInput {
  name: string;
  schedule: string;
  prompt: string;
  timezone?: string;
  enabled?: boolean;
}

export type CronjobPatch = Partial<CronjobInput>;

/** `POST /box/email/send`: the body is Markdown; the platform renders it and threads replies. */
export interface SendEmailInput {
  to: string[];
  cc?: string[];
  /** Optional only with `replyToEmailId`: the platform then uses "Re: <parent subject>". */
  subject?: string;
  body: string;
  replyToEmailId?: string;
}

export const queuedEmailSchema = z.object({
  id: z.string(),
  status: z.string(),
  messageId: z.string(),
  threadId: z.string(),
  subject: z.string(),
});
export type QueuedEmail = z.infer<typeof queuedEmailSchema>;

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

const errorBodySchema = z.object({ code: z.string().optional(), message: z.string() });

export interface BoxApiClientOptions {
  serverUrl: string;
  boxSecret: string;
  /** Per request; the platform answers these from its database, so a slow answer means trouble. */
  timeoutMs?: number;
}

export type TriggerType = AgentConfig["triggerType"];

export class BoxApiClient {
  private readonly serverUrl: string;
  private readonly boxSecret: string;
  private readonly timeoutMs: number;

  constructor(options: BoxApiClientOptions) {
    this.serverUrl = options.serverUrl.replace(/\/+$/, "");
    this.boxSecret = options.boxSecret;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  getAgentConfig(triggerType: TriggerType): Promise<AgentConfig> {
    return this.request(
      "GET",
      `/box/agent-config?triggerType=${encodeURIComponent(triggerType)}`,
      undefined,
      agentConfigSchema,
    );
  }

  async listCronjobs(): Promise<Cronjob[]> {
    const body = await this.request(
      "GET",
      "/box/cronjobs",
      undefined,
      z.union([z.array(cronjobSchema), z.object({ cronjobs: z.array(cronjobSchema) })]),
    );
    return Array.isArray(body) ? body : body.cronjobs;
  }

  createCronjob(input: CronjobInput): Promise<Cronjob> {
    return this.request("POST", "/box/cronjobs", input, cronjobSchema);
  }

  updateCronjob(id: string, patch: CronjobPatch): Promise<Cronjob> {
    return this.request("PUT", `/box/cronjobs/${encodeURIComponent(id)}`, patch, cronjobSchema);
  }

  async deleteCronjob(id: string): Promise<void> {
    await this.request("DELETE", `/box/cronjobs/${encodeURIComponent(id)}`, undefined, z.unknown());
  }

  toggleCronjob(id: string): Promise<Cronjob> {
    return this.request("POST", `/box/cronjobs/${encodeURIComponent(id)}/toggle`, undefined, cronjobSchema);
  }

  sendEmail(input: SendEmailInput): Promise<QueuedEmail> {
    return this.request("POST", "/box/email/send", input, queuedEmailSchema);
  }

  /** Calls the platform and returns its answer whatever the status; throws only when it cannot be reached. */
  async forward(method: string, path: string, body: unknown): Promise<PlatformAnswer> {
    const { response, text } = await this.call(method, path, body);
    return { status: response.status, contentType: response.headers.get("content-type") ?? undefined, text };
  }

  private async call(
    method: string,
    path: string,
    body: unknown,
  ): Promise<{ response: Response; text: string }> {
    const what = `${method} ${path.split("?")[0]}`;
    try {
      const response = await fetch(`${this.serverUrl}${path}`, {
        method,
        headers: {
          "x-box-secret": this.boxSecret,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return { response, text: await response.text() };
    } catch (error) {
      const reason = error instanceof Error && error.name === "TimeoutError" ? "timed out" : String(error);
      throw new BoxApiError(`could not reach the platform at ${this.serverUrl} (${what}): ${reason}`, {
        code: "UNREACHABLE",
        cause: error,
      });
    }
  }

  private async request<T>(method: string, path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    const what = `${method} ${path.split("?")[0]}`;
    const { response, text } = await this.call(method, path, body);
    let json: unknown;
    if (text !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }

    if (!response.ok) {
      const parsed = errorBodySchema.safeParse(json);
      const message = parsed.success
        ? parsed.data.message
        : `the platform answered ${what} with HTTP ${response.status}`;
      throw new BoxApiError(message, {
        status: response.status,
        code: parsed.success && parsed.data.code !== undefined ? parsed.data.code : `HTTP_${response.status}`,
      });
    }

    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new BoxApiError(
        `the platform's answer to ${what} is not what box-agent expects: ${z.prettifyError(parsed.error)}`,
        { status: response.status, code: "BAD_RESPONSE" },
      );
    }
    return parsed.data;
  }
}
