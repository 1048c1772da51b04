import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OpenAPIHandler } from "@orpc/openapi/fetch";
import { implement, ORPCError, onError, ValidationError } from "@orpc/server";
import {
  agentConfigSchema,
  type BoxOutputs,
  boxContract,
  errorAnswerSchema,
  type sendEmailInput,
} from "@vps-claude/contract";
import type { z } from "zod";

/**
 * A stand-in for the platform server's box-facing API: it `implement`s `boxContract` (so the type
 * checker keeps it honest) and is served by oRPC's OpenAPIHandler behind X-Box-Secret auth, answering
 * refusals as `{ code, status, message }` like the platform.
 */

export interface PlatformRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export type PlatformCronjob = BoxOutputs["cronjob"]["create"];

export type AgentConfigAnswer = { status: number; body: unknown };

/** An email the platform knows, so a reply to it can be threaded (`replyToEmailId`). */
export interface PlatformKnownEmail {
  id: string;
  threadId: string;
  subject: string;
}

type SendEmailRequest = z.output<typeof sendEmailInput>;

/** What `POST /box/email/send` queued. */
export type PlatformQueuedEmail = BoxOutputs["email"]["send"] &
  Pick<SendEmailRequest, "to" | "body"> & { cc: string[]; replyToEmailId: string | null };

export interface FakePlatform {
  url: string;
  boxId: string;
  boxSecret: string;
  requests: PlatformRequest[];
  cronjobs: Map<string, PlatformCronjob>;
  /** Emails queued through `POST /box/email/send`, oldest first. */
  sentEmails: PlatformQueuedEmail[];
  /** Makes an (inbound) email known, so `replyToEmailId` may name it. */
  knowEmail(email: PlatformKnownEmail): void;
  /** Answer the next sends with this instead (e.g. a 429); `undefined` restores normal behaviour. */
  setEmailSendFailure(answer: { status: number; body: unknown } | undefined): void;
  /** Decide what `GET /box/agent-config` answers; defaults to a fixed model and system prompt. */
  setAgentConfig(answer: (triggerType: string) => AgentConfigAnswer): void;
  close(): Promise<void>;
}

export function defaultAgentConfig(triggerType: string): AgentConfigAnswer {
  return {
    status: 200,
    body: {
      triggerType,
      model: "claude-sonnet-4-5",
      systemPrompt: `You are the agent of a test box (${triggerType}).`,
      mcpServers: {},
    },
  };
}

interface FakeContext {
  request: PlatformRequest;
}

/** A refusal the test scripted, in the platform's `{ code, message }` shape. */
function scriptedRefusal(answer: { status: number; body: unknown }): ORPCError<string, unknown> {
  const parsed = errorAnswerSchema.safeParse(answer.body);
  return new ORPCError(parsed.data?.code ?? `HTTP_${answer.status}`, {
    status: answer.status,
    message: parsed.data?.message ?? `HTTP ${answer.status}`,
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) {
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts).toString("utf8");
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  let text = await response.text();
  if (!response.ok && text !== "") {
    // The platform answers `{ code, status, message }`: oRPC's `defined` and `data` stay out.
    const { code, status, message } = JSON.parse(text) as { code: string; status: number; message: string };
    text = JSON.stringify({ code, status, message });
  }
  const contentType = response.headers.get("content-type");
  res.writeHead(response.status, contentType && text !== "" ? { "content-type": contentType } : {}).end(text);
}

export async function startFakePlatform(
  options: { boxId?: string; boxSecret?: string } = {},
): Promise<FakePlatform> {
  const boxId = options.boxId ?? "box_test";
  const boxSecret = options.boxSecret ?? randomBytes(32).toString("hex");
  const requests: PlatformRequest[] = [];
  const cronjobs = new Map<string, PlatformCronjob>();
  let agentConfig = defaultAgentConfig;
  let nextId = 1;
  const knownEmails = new Map<string, PlatformKnownEmail>();
  const sentEmails: PlatformQueuedEmail[] = [];
  let emailSendFailure: { status: number; body: unknown } | undefined;

  const os = implement(boxContract).$context<FakeContext>();

  function cronjob(id: string): PlatformCronjob {
    const job = cronjobs.get(id);
    if (job === undefined) {
      throw new ORPCError("NOT_FOUND", { status: 404, message: `cronjob ${id} not found` });
    }
    return job;
  }

  const router = os.router({
    agentConfig: {
      get: os.agentConfig.get.handler(({ input }) => {
        const answer = agentConfig(input.triggerType);
        if (answer.status !== 200) {
          throw scriptedRefusal(answer);
        }
        const config = agentConfigSchema.omit({ isDefaultPrompt: true, updatedAt: true }).parse(answer.body);
        return { ...config, isDefaultPrompt: false, updatedAt: null };
      }),
    },
    email: {
      send: os.email.send.handler(({ input }) => {
        if (emailSendFailure !== undefined) {
          throw scriptedRefusal(emailSendFailure);
        }
        const replyToEmailId = input.replyToEmailId ?? null;
        const parent = replyToEmailId === null ? undefined : knownEmails.get(replyToEmailId);
        if (replyToEmailId !== null && parent === undefined) {
          throw new ORPCError("NOT_FOUND", { status: 404, message: `email ${replyToEmailId} not found` });
        }
        let subject = input.subject?.trim() ?? "";
        if (parent !== undefined) {
          const base = subject || parent.subject;
          subject = /^re:/i.test(base) ? base : `Re: ${base}`;
        }
        if (subject === "") {
          throw new ORPCError("BAD_REQUEST", {
            status: 400,
            message: "subject: a new email needs a subject (replies may leave it out)",
          });
        }
        const n = sentEmails.length + 1;
        const messageId = `<out-${n}@agents.localhost>`;
        const queued: PlatformQueuedEmail = {
          id: `email_out${n}`,
          status: "queued",
          messageId,
          threadId: parent?.threadId ?? messageId,
          subject,
          to: input.to,
          cc: input.cc ?? [],
          body: input.body,
          replyToEmailId,
        };
        sentEmails.push(queued);
        return queued;
      }),
    },
    cronjob: {
      list: os.cronjob.list.handler(() => [...cronjobs.values()]),
      create: os.cronjob.create.handler(({ input }) => {
        const now = new Date();
        const job: PlatformCronjob = {
          id: `cron_${nextId++}`,
          boxId,
          name: input.name,
          schedule: input.schedule,
          prompt: input.prompt,
          timezone: input.timezone ?? "UTC",
          enabled: input.enabled ?? true,
          overlap: input.overlap ?? "skip",
          session: input.session ?? "fresh",
          model: input.model ?? null,
          maxDurationMinutes: input.maxDurationMinutes ?? null,
          // Not the scheduler's reckoning: a fixed time is enough to show the field passes through.
          nextRuns: input.enabled === false ? [] : [new Date("2030-01-01T09:00:00Z")],
          lastRunAt: null,
          createdAt: now,
          updatedAt: now,
        };
        cronjobs.set(job.id, job);
        return job;
      }),
      update: os.cronjob.update.handler(({ input: { id, ...patch } }) => {
        const job = cronjob(id);
        const updated: PlatformCronjob = {
          ...job,
          name: patch.name ?? job.name,
          schedule: patch.schedule ?? job.schedule,
          prompt: patch.prompt ?? job.prompt,
          timezone: patch.timezone ?? job.timezone,
          enabled: patch.enabled ?? job.enabled,
          overlap: patch.overlap ?? job.overlap,
          session: patch.session ?? job.session,
          model: patch.model === undefined ? job.model : patch.model,
          maxDurationMinutes:
            patch.maxDurationMinutes === undefined ? job.maxDurationMinutes : patch.maxDurationMinutes,
          updatedAt: new Date(),
        };
        cronjobs.set(id, updated);
        return updated;
      }),
      delete: os.cronjob.delete.handler(({ input }) => {
        const job = cronjob(input.id);
        cronjobs.delete(input.id);
        return job;
      }),
      toggle: os.cronjob.toggle.handler(({ input }) => {
        const job = cronjob(input.id);
        const toggled = { ...job, enabled: input.enabled ?? !job.enabled, updatedAt: new Date() };
        cronjobs.set(input.id, toggled);
        return toggled;
      }),
    },
    ai: {
      generateImage: os.ai.generateImage.handler(() => {
        throw new ORPCError("SERVICE_UNAVAILABLE", {
          status: 503,
          message: "no media provider in this fake",
        });
      }),
      textToSpeech: os.ai.textToSpeech.handler(() => {
        throw new ORPCError("SERVICE_UNAVAILABLE", {
          status: 503,
          message: "no media provider in this fake",
        });
      }),
      speechToText: os.ai.speechToText.handler(() => {
        throw new ORPCError("SERVICE_UNAVAILABLE", {
          status: 503,
          message: "no media provider in this fake",
        });
      }),
    },
  });

  // Like the platform, a validation failure names what is wrong (here: only the messages).
  const handler = new OpenAPIHandler(router, {
    clientInterceptors: [
      onError((error) => {
        if (
          error instanceof ORPCError &&
          error.code === "BAD_REQUEST" &&
          error.cause instanceof ValidationError
        ) {
          throw new ORPCError("BAD_REQUEST", {
            status: 400,
            message: error.cause.issues.map((issue) => issue.message).join("; "),
          });
        }
      }),
    ],
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const text = await readBody(req);
    const request: PlatformRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: text === "" ? undefined : JSON.parse(text),
    };
    requests.push(request);

    if (req.headers["x-box-secret"] !== boxSecret) {
      res
        .writeHead(401, { "content-type": "application/json" })
        .end(JSON.stringify({ code: "UNAUTHORIZED", status: 401, message: "invalid box token" }));
      return;
    }

    const fetchRequest = new Request(url.href, {
      method: request.method,
      headers: Object.entries(req.headers).flatMap(([name, value]) =>
        typeof value === "string" ? [[name, value] as [string, string]] : [],
      ),
      body: text === "" || request.method === "GET" ? undefined : text,
    });
    const { matched, response } = await handler.handle(fetchRequest, {
      prefix: "/box",
      context: { request },
    });
    if (!matched) {
      await send(
        res,
        Response.json(
          { code: "NOT_FOUND", status: 404, message: `no route ${request.method} ${url.pathname}` },
          { status: 404 },
        ),
      );
      return;
    }
    await send(res, response);
  }

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) =>
      res
        .writeHead(500, { "content-type": "application/json" })
        .end(JSON.stringify({ code: "INTERNAL_SERVER_ERROR", status: 500, message: String(error) })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    boxId,
    boxSecret,
    requests,
    cronjobs,
    sentEmails,
    knowEmail(email) {
      knownEmails.set(email.id, email);
    },
    setEmailSendFailure(answer) {
      emailSendFailure = answer;
    },
    setAgentConfig(answer) {
      agentConfig = answer;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
