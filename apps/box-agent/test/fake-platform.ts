import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for the platform server's box-facing API (`/box/agent-config`, `/box/cronjobs`,
 * `/box/email/send`), speaking its HTTP contract: X-Box-Secret auth, JSON bodies, `{ code, message }` errors.
 */

export interface PlatformRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface PlatformCronjob {
  id: string;
  boxId: string;
  name: string;
  schedule: string;
  prompt: string;
  timezone: string | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export type AgentConfigAnswer = { status: number; body: unknown };

/** An email the platform knows, so a reply to it can be threaded (`replyToEmailId`). */
export interface PlatformKnownEmail {
  id: string;
  threadId: string;
  subject: string;
}

/** What `POST /box/email/send` queued. */
export interface PlatformQueuedEmail {
  id: string;
  status: "queued";
  messageId: string;
  threadId: string;
  subject: string;
  to: string[];
  cc: string[];
  body: string;
  replyToEmailId: string | null;
}

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

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) {
    parts.push(part as Buffer);
  }
  const text = Buffer.concat(parts).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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

  function recipients(value: unknown): string[] | undefined {
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || !list.every((entry) => typeof entry === "string" && entry.includes("@"))) {
      return undefined;
    }
    return list as string[];
  }

  function queueEmail(body: unknown): { status: number; body: unknown } {
    if (emailSendFailure !== undefined) {
      return emailSendFailure;
    }
    const to = isRecord(body) ? recipients(body.to) : undefined;
    if (!isRecord(body) || to === undefined || to.length === 0) {
      return {
        status: 400,
        body: { code: "BAD_REQUEST", message: "to: at least one recipient is required" },
      };
    }
    if (typeof body.body !== "string" || body.body === "") {
      return { status: 400, body: { code: "BAD_REQUEST", message: "body must not be empty" } };
    }
    const cc = body.cc === undefined ? [] : recipients(body.cc);
    if (cc === undefined) {
      return {
        status: 400,
        body: { code: "BAD_REQUEST", message: "cc: each recipient must be a valid email address" },
      };
    }
    const replyToEmailId = typeof body.replyToEmailId === "string" ? body.replyToEmailId : null;
    const parent = replyToEmailId === null ? undefined : knownEmails.get(replyToEmailId);
    if (replyToEmailId !== null && parent === undefined) {
      return { status: 404, body: { code: "NOT_FOUND", message: `email ${replyToEmailId} not found` } };
    }
    let subject = typeof body.subject === "string" ? body.subject.trim() : "";
    if (parent !== undefined) {
      const base = subject || parent.subject;
      subject = /^re:/i.test(base) ? base : `Re: ${base}`;
    }
    if (subject === "") {
      return {
        status: 400,
        body: {
          code: "BAD_REQUEST",
          message: "subject: a new email needs a subject (replies may leave it out)",
        },
      };
    }
    const n = sentEmails.length + 1;
    const messageId = `<out-${n}@agents.localhost>`;
    const queued: PlatformQueuedEmail = {
      id: `email_out${n}`,
      status: "queued",
      messageId,
      threadId: parent?.threadId ?? messageId,
      subject,
      to,
      cc,
      body: body.body,
      replyToEmailId,
    };
    sentEmails.push(queued);
    const { id, status, threadId } = queued;
    return { status: 202, body: { id, status, messageId, threadId, subject } };
  }

  function validateSchedule(schedule: unknown): string | undefined {
    if (typeof schedule !== "string" || schedule.trim().split(/\s+/).length !== 5) {
      return `cron expression '${String(schedule)}': expected 5 fields`;
    }
    const minute = schedule.trim().split(/\s+/)[0] ?? "";
    if (/^\d+$/.test(minute) && Number(minute) > 59) {
      return `cron expression '${schedule}': minute must be 0–59`;
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const body = await readJson(req);
    const request: PlatformRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
    };
    requests.push(request);

    if (req.headers["x-box-secret"] !== boxSecret) {
      send(res, 401, { code: "UNAUTHORIZED", message: "invalid box token" });
      return;
    }

    if (request.method === "GET" && url.pathname === "/box/agent-config") {
      const answer = agentConfig(url.searchParams.get("triggerType") ?? "");
      send(res, answer.status, answer.body);
      return;
    }

    if (request.method === "POST" && url.pathname === "/box/email/send") {
      const answer = queueEmail(body);
      send(res, answer.status, answer.body);
      return;
    }

    if (url.pathname === "/box/cronjobs") {
      if (request.method === "GET") {
        send(res, 200, [...cronjobs.values()]);
        return;
      }
      if (request.method === "POST") {
        if (!isRecord(body) || typeof body.name !== "string" || typeof body.prompt !== "string") {
          send(res, 400, { code: "BAD_REQUEST", message: "name and prompt are required" });
          return;
        }
        const problem = validateSchedule(body.schedule);
        if (problem !== undefined) {
          send(res, 400, { code: "BAD_REQUEST", message: problem });
          return;
        }
        const now = new Date().toISOString();
        const job: PlatformCronjob = {
          id: `cron_${nextId++}`,
          boxId,
          name: body.name,
          schedule: String(body.schedule),
          prompt: body.prompt,
          timezone: typeof body.timezone === "string" ? body.timezone : null,
          enabled: typeof body.enabled === "boolean" ? body.enabled : true,
          createdAt: now,
          updatedAt: now,
        };
        cronjobs.set(job.id, job);
        send(res, 201, job);
        return;
      }
    }

    const match = /^\/box\/cronjobs\/([^/]+)(\/toggle)?$/.exec(url.pathname);
    if (match !== null) {
      const id = decodeURIComponent(match[1] ?? "");
      const job = cronjobs.get(id);
      if (job === undefined) {
        send(res, 404, { code: "NOT_FOUND", message: `cronjob ${id} not found` });
        return;
      }
      const now = new Date().toISOString();
      if (match[2] !== undefined && request.method === "POST") {
        const toggled = { ...job, enabled: !job.enabled, updatedAt: now };
        cronjobs.set(id, toggled);
        send(res, 200, toggled);
        return;
      }
      if (match[2] === undefined && request.method === "PUT" && isRecord(body)) {
        if (body.schedule !== undefined) {
          const problem = validateSchedule(body.schedule);
          if (problem !== undefined) {
            send(res, 400, { code: "BAD_REQUEST", message: problem });
            return;
          }
        }
        const updated = { ...job, ...body, id, boxId, updatedAt: now } as PlatformCronjob;
        cronjobs.set(id, updated);
        send(res, 200, updated);
        return;
      }
      if (match[2] === undefined && request.method === "DELETE") {
        cronjobs.delete(id);
        send(res, 200, { ok: true });
        return;
      }
    }

    send(res, 404, { code: "NOT_FOUND", message: `no route ${request.method} ${url.pathname}` });
  }

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) =>
      send(res, 500, { code: "INTERNAL", message: String(error) }),
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
