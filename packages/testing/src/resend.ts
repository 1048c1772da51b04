import { randomUUID } from "node:crypto";
import {
  bearerToken,
  FailureQueue,
  type FakeResponse,
  failureResponse,
  isRecord,
  json,
  parseJsonBody,
  type RecordedRequest,
  startFakeHttpServer,
} from "./http";
import { buildRawMime } from "./mime-builder";
import { type SignedWebhook, signedWebhook } from "./svix";

/**
 * A fake of the Resend API (https://resend.com/docs/api-reference) for the `resend` SDK 6.x pointed at
 * it with `new Resend(key, { baseUrl: fake.url })`: sending with idempotency keys, the receiving API
 * with attachment and raw downloads, and `email.received` webhooks signed the way Svix signs them.
 */

export interface ResendAttachmentRecord {
  filename: string | undefined;
  /** Decoded bytes of `content`; empty when the attachment was given by `path`. */
  content: Buffer;
  contentType: string | undefined;
  contentId: string | undefined;
  path: string | undefined;
}

export interface ResendSentEmail {
  id: string;
  createdAt: Date;
  idempotencyKey: string | undefined;
  /** HTTP request headers of the send (lower-cased). */
  requestHeaders: Record<string, string>;
  /** The JSON body exactly as the client sent it (snake_case). */
  payload: Record<string, unknown>;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  html: string | undefined;
  text: string | undefined;
  /** The email's custom headers (`headers` field of the payload), e.g. In-Reply-To. */
  headers: Record<string, string>;
  attachments: ResendAttachmentRecord[];
  tags: { name: string; value: string }[];
}

export interface InboundAttachmentInput {
  filename: string;
  contentType: string;
  content: Buffer | string;
  /** Set for inline images referenced as `cid:` from the HTML. */
  contentId?: string;
  inline?: boolean;
}

export interface InboundEmailInput {
  from: string;
  to: string | string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  subject: string;
  text?: string;
  html?: string;
  /** Extra headers (In-Reply-To, References, …); names are lower-cased like Resend returns them. */
  headers?: Record<string, string>;
  /** With angle brackets; generated when omitted. */
  messageId?: string;
  attachments?: InboundAttachmentInput[];
  receivedAt?: Date;
}

interface StoredAttachment {
  id: string;
  filename: string;
  contentType: string;
  content: Buffer;
  contentId: string | undefined;
  inline: boolean;
}

interface StoredInboundEmail {
  id: string;
  createdAt: Date;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  text: string | undefined;
  html: string | undefined;
  headers: Record<string, string>;
  messageId: string;
  attachments: StoredAttachment[];
  raw: Buffer;
}

/** The `email.received` event body Resend posts to a webhook (metadata only; the body is fetched). */
export interface EmailReceivedEvent {
  type: "email.received";
  created_at: string;
  data: {
    email_id: string;
    created_at: string;
    from: string;
    to: string[];
    bcc: string[];
    cc: string[];
    received_for: string[];
    message_id: string;
    subject: string;
    attachments: {
      id: string;
      filename: string | null;
      content_type: string;
      content_disposition: string | null;
      content_id: string | null;
    }[];
  };
}

export interface StartFakeResendOptions {
  /** The only key accepted as `Authorization: Bearer …`. */
  apiKey?: string;
}

export interface FakeResend {
  url: string;
  apiKey: string;
  close(): Promise<void>;
  /** Every request received, in order, including rejected ones. */
  requests: RecordedRequest[];
  /** Emails accepted by `POST /emails` (an idempotent replay does not add a second entry). */
  sentEmails: ResendSentEmail[];
  /**
   * The next `times` sends fail with this status and Resend's error body
   * (`{statusCode, name, message}`, `name` derived from the status unless given), or drop the connection.
   */
  failNextSends(failure: ResendFailure, times?: number): void;
  /** Registers a received email for the receiving API; returns its `email_id`. */
  addInboundEmail(email: InboundEmailInput): string;
  /** The webhook body Resend would post for a received email. */
  emailReceivedEvent(emailId: string): EmailReceivedEvent;
  /** That webhook body, serialized and signed like a Svix delivery. */
  signedEmailReceivedWebhook(
    emailId: string,
    options: { secret: string; timestamp?: Date | number; id?: string },
  ): SignedWebhook;
}

export type ResendErrorName =
  | "invalid_idempotency_key"
  | "validation_error"
  | "missing_api_key"
  | "restricted_api_key"
  | "invalid_api_key"
  | "not_found"
  | "method_not_allowed"
  | "invalid_idempotent_request"
  | "concurrent_idempotent_requests"
  | "invalid_attachment"
  | "invalid_from_address"
  | "invalid_access"
  | "invalid_parameter"
  | "invalid_region"
  | "missing_required_field"
  | "monthly_quota_exceeded"
  | "daily_quota_exceeded"
  | "rate_limit_exceeded"
  | "security_error"
  | "application_error"
  | "internal_server_error";

export type ResendFailure = { status: number; name?: ResendErrorName; message?: string } | { drop: true };

const DEFAULT_ERROR_NAMES: Record<number, ResendErrorName> = {
  400: "invalid_parameter",
  401: "missing_api_key",
  403: "invalid_api_key",
  404: "not_found",
  405: "method_not_allowed",
  409: "invalid_idempotent_request",
  422: "validation_error",
  429: "rate_limit_exceeded",
  500: "internal_server_error",
};

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_RECIPIENTS = 50;
const DOWNLOAD_TTL_MS = 60 * 60 * 1000;
const ADDRESS = /^(?:[^<>]*<\s*[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+\s*>|[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)$/;

function resendError(status: number, name: ResendErrorName, message: string): FakeResponse {
  return json(status, { statusCode: status, name, message });
}

/** JSON with sorted keys, so "same payload" means same content regardless of key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function canonicalHeaderName(name: string): string {
  if (name === "message-id") {
    return "Message-ID";
  }
  return name.replace(
    /(^|-)([a-z])/g,
    (_whole, dash: string, letter: string) => `${dash}${letter.toUpperCase()}`,
  );
}

function stringList(value: unknown): string[] | undefined {
  if (typeof value === "string") {
    return [value];
  }
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    return value;
  }
  return undefined;
}

function addressOnly(address: string): string {
  const match = /<([^<>]+)>/.exec(address);
  return (match?.[1] ?? address).trim();
}

type Validated =
  | { ok: true; email: Omit<ResendSentEmail, "id" | "createdAt" | "idempotencyKey" | "requestHeaders"> }
  | {
      ok: false;
      response: FakeResponse;
    };

function validateSend(body: unknown): Validated {
  const fail = (name: ResendErrorName, message: string): Validated => ({
    ok: false,
    response: resendError(422, name, message),
  });
  if (!isRecord(body)) {
    return fail("validation_error", "The request body must be a JSON object.");
  }
  for (const field of ["from", "to", "subject"] as const) {
    if (body[field] === undefined || body[field] === null || body[field] === "") {
      return fail("missing_required_field", `Missing \`${field}\` field.`);
    }
  }
  if (typeof body.from !== "string" || !ADDRESS.test(body.from.trim())) {
    return fail(
      "invalid_from_address",
      "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
    );
  }
  const recipients: Record<"to" | "cc" | "bcc" | "reply_to", string[]> = {
    to: [],
    cc: [],
    bcc: [],
    reply_to: [],
  };
  for (const field of ["to", "cc", "bcc", "reply_to"] as const) {
    if (body[field] === undefined || body[field] === null) {
      continue;
    }
    const list = stringList(body[field]);
    if (!list || list.some((address) => !ADDRESS.test(address.trim()))) {
      return fail(
        "validation_error",
        `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`,
      );
    }
    if (list.length > MAX_RECIPIENTS) {
      return fail(
        "validation_error",
        `Too many recipients in \`${field}\`. The maximum is ${MAX_RECIPIENTS}.`,
      );
    }
    recipients[field] = list;
  }
  if (recipients.to.length === 0) {
    return fail("missing_required_field", "Missing `to` field.");
  }
  if (typeof body.subject !== "string") {
    return fail("validation_error", "Invalid `subject` field. It must be a string.");
  }
  for (const field of ["html", "text"] as const) {
    if (body[field] !== undefined && body[field] !== null && typeof body[field] !== "string") {
      return fail("validation_error", `Invalid \`${field}\` field. It must be a string.`);
    }
  }
  const html = typeof body.html === "string" ? body.html : undefined;
  const text = typeof body.text === "string" ? body.text : undefined;
  if (html === undefined && text === undefined && body.template === undefined) {
    return fail("validation_error", "Missing `html` or `text` field.");
  }
  const headers: Record<string, string> = {};
  if (body.headers !== undefined && body.headers !== null) {
    if (!isRecord(body.headers)) {
      return fail("validation_error", "Invalid `headers` field. It must be an object of strings.");
    }
    for (const [name, value] of Object.entries(body.headers)) {
      if (typeof value !== "string") {
        return fail(
          "validation_error",
          `Invalid \`headers\` field. The value of \`${name}\` must be a string.`,
        );
      }
      headers[name] = value;
    }
  }
  const attachments: ResendAttachmentRecord[] = [];
  if (body.attachments !== undefined && body.attachments !== null) {
    if (!Array.isArray(body.attachments)) {
      return fail("invalid_attachment", "Invalid `attachments` field. It must be an array.");
    }
    for (const attachment of body.attachments) {
      if (!isRecord(attachment)) {
        return fail("invalid_attachment", "Each attachment must be an object.");
      }
      const { content, path, filename } = attachment;
      if (typeof content !== "string" && typeof path !== "string") {
        return fail("invalid_attachment", "Attachment must have either a `content` or `path`.");
      }
      if (typeof content === "string" && !/^[A-Za-z0-9+/=\r\n]*$/.test(content)) {
        return fail("invalid_attachment", "Attachment `content` must be base64 encoded.");
      }
      if (filename !== undefined && typeof filename !== "string") {
        return fail("invalid_attachment", "Attachment `filename` must be a string.");
      }
      attachments.push({
        filename,
        content: typeof content === "string" ? Buffer.from(content, "base64") : Buffer.alloc(0),
        contentType: typeof attachment.content_type === "string" ? attachment.content_type : undefined,
        contentId: typeof attachment.content_id === "string" ? attachment.content_id : undefined,
        path: typeof path === "string" ? path : undefined,
      });
    }
  }
  const tags: { name: string; value: string }[] = [];
  if (Array.isArray(body.tags)) {
    for (const tag of body.tags) {
      if (!isRecord(tag) || typeof tag.name !== "string" || typeof tag.value !== "string") {
        return fail("validation_error", "Invalid `tags` field. Each tag needs a string `name` and `value`.");
      }
      tags.push({ name: tag.name, value: tag.value });
    }
  }
  return {
    ok: true,
    email: {
      payload: body,
      from: body.from,
      to: recipients.to,
      cc: recipients.cc,
      bcc: recipients.bcc,
      replyTo: recipients.reply_to,
      subject: body.subject,
      html,
      text,
      headers,
      attachments,
      tags,
    },
  };
}

export async function startFakeResend(options: StartFakeResendOptions = {}): Promise<FakeResend> {
  const apiKey = options.apiKey ?? "re_test_key";
  const requests: RecordedRequest[] = [];
  const sentEmails: ResendSentEmail[] = [];
  const idempotency = new Map<string, { fingerprint: string; id: string; at: number }>();
  const inbound = new Map<string, StoredInboundEmail>();
  const failures = new FailureQueue();
  let baseUrl = "";

  const expiresAt = () => new Date(Date.now() + DOWNLOAD_TTL_MS).toISOString();
  const attachmentDownloadUrl = (emailId: string, attachmentId: string) =>
    `${baseUrl}/_downloads/attachments/${emailId}/${attachmentId}`;

  function send(request: RecordedRequest): FakeResponse {
    const failure = failures.take();
    if (failure) {
      return failureResponse(failure, (status, message) => ({
        statusCode: status,
        name: DEFAULT_ERROR_NAMES[status] ?? "application_error",
        message: message ?? "Injected failure from the fake Resend.",
      }));
    }
    const key = request.headers["idempotency-key"];
    if (key !== undefined && (key.length < 1 || key.length > 256)) {
      return resendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
    }
    const body = parseJsonBody(request);
    const fingerprint = canonicalJson(body);
    if (key !== undefined) {
      const previous = idempotency.get(key);
      if (previous && Date.now() - previous.at < IDEMPOTENCY_TTL_MS) {
        if (previous.fingerprint !== fingerprint) {
          return resendError(
            409,
            "invalid_idempotent_request",
            "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
          );
        }
        return json(200, { id: previous.id });
      }
    }
    const validated = validateSend(body);
    if (!validated.ok) {
      return validated.response;
    }
    const id = randomUUID();
    sentEmails.push({
      ...validated.email,
      id,
      createdAt: new Date(),
      idempotencyKey: key,
      requestHeaders: request.headers,
    });
    if (key !== undefined) {
      idempotency.set(key, { fingerprint, id, at: Date.now() });
    }
    return json(200, { id });
  }

  function getSent(id: string): FakeResponse {
    const email = sentEmails.find((candidate) => candidate.id === id);
    if (!email) {
      return resendError(404, "not_found", "Email not found");
    }
    return json(200, {
      object: "email",
      id: email.id,
      to: email.to,
      from: email.from,
      created_at: email.createdAt.toISOString(),
      subject: email.subject,
      html: email.html ?? null,
      text: email.text ?? null,
      bcc: email.bcc,
      cc: email.cc,
      reply_to: email.replyTo,
      last_event: "delivered",
      scheduled_at: null,
      tags: email.tags,
    });
  }

  function inboundAttachmentMeta(email: StoredInboundEmail) {
    return email.attachments.map((attachment) => ({
      id: attachment.id,
      filename: attachment.filename,
      size: attachment.content.length,
      content_type: attachment.contentType,
      content_id: attachment.contentId ?? null,
      content_disposition: attachment.inline ? "inline" : "attachment",
    }));
  }

  function attachmentData(email: StoredInboundEmail, attachment: StoredAttachment) {
    return {
      id: attachment.id,
      filename: attachment.filename,
      size: attachment.content.length,
      content_type: attachment.contentType,
      content_disposition: attachment.inline ? "inline" : "attachment",
      content_id: attachment.contentId,
      download_url: attachmentDownloadUrl(email.id, attachment.id),
      expires_at: expiresAt(),
    };
  }

  /** Resend's default `html_format=data_uri` inlines `cid:` images; `cid` keeps the references. */
  function htmlFor(email: StoredInboundEmail, format: string | null): string | null {
    if (email.html === undefined) {
      return null;
    }
    if (format === "cid") {
      return email.html;
    }
    return email.html.replace(/cid:([^"'\s)>]+)/g, (whole, cid: string) => {
      const attachment = email.attachments.find((candidate) => candidate.contentId === cid);
      return attachment
        ? `data:${attachment.contentType};base64,${attachment.content.toString("base64")}`
        : whole;
    });
  }

  function receivingSummary(email: StoredInboundEmail) {
    return {
      id: email.id,
      to: email.to,
      from: email.from,
      created_at: email.createdAt.toISOString(),
      subject: email.subject,
      bcc: email.bcc,
      cc: email.cc,
      reply_to: email.replyTo,
      received_for: email.to.map(addressOnly),
      message_id: email.messageId,
      attachments: inboundAttachmentMeta(email),
    };
  }

  function route(request: RecordedRequest): FakeResponse {
    const { method, path } = request;
    const segments = path.split("/").filter(Boolean);

    // Download URLs are pre-signed in the real service: no Authorization header.
    if (segments[0] === "_downloads" && method === "GET") {
      const email = inbound.get(segments[2] ?? "");
      if (segments[1] === "raw" && email && segments.length === 3) {
        return { status: 200, headers: { "content-type": "message/rfc822" }, body: email.raw };
      }
      const attachment = email?.attachments.find((candidate) => candidate.id === segments[3]);
      if (segments[1] === "attachments" && attachment && segments.length === 4) {
        return { status: 200, headers: { "content-type": attachment.contentType }, body: attachment.content };
      }
      return { status: 404, body: "Not Found" };
    }

    const token = bearerToken(request);
    if (!token) {
      return resendError(
        401,
        "missing_api_key",
        "Missing API key in the authorization header. Include the following header Authorization: Bearer YOUR_API_KEY in the request.",
      );
    }
    if (token !== apiKey) {
      return resendError(403, "invalid_api_key", "API key is invalid");
    }

    if (segments[0] !== "emails") {
      return resendError(404, "not_found", "The requested endpoint does not exist.");
    }
    if (segments.length === 1) {
      return method === "POST" ? send(request) : resendError(405, "method_not_allowed", "Method not allowed");
    }
    if (method !== "GET") {
      return resendError(405, "method_not_allowed", "Method not allowed");
    }
    if (segments[1] !== "receiving") {
      return segments.length === 2 ? getSent(segments[1] ?? "") : resendError(404, "not_found", "Not found");
    }
    if (segments.length === 2) {
      const data = [...inbound.values()].reverse().map(receivingSummary);
      return json(200, { object: "list", has_more: false, data });
    }
    const email = inbound.get(segments[2] ?? "");
    if (!email) {
      return resendError(404, "not_found", "Email not found");
    }
    if (segments.length === 3) {
      return json(200, {
        object: "email",
        ...receivingSummary(email),
        html: htmlFor(email, request.query.get("html_format")),
        text: email.text ?? null,
        headers: email.headers,
        raw: { download_url: `${baseUrl}/_downloads/raw/${email.id}`, expires_at: expiresAt() },
      });
    }
    if (segments[3] !== "attachments" || segments.length > 5) {
      return resendError(404, "not_found", "Not found");
    }
    if (segments.length === 4) {
      return json(200, {
        object: "list",
        has_more: false,
        data: email.attachments.map((attachment) => attachmentData(email, attachment)),
      });
    }
    const attachment = email.attachments.find((candidate) => candidate.id === segments[4]);
    if (!attachment) {
      return resendError(404, "not_found", "Attachment not found");
    }
    return json(200, { object: "attachment", ...attachmentData(email, attachment) });
  }

  const server = await startFakeHttpServer((request) => {
    requests.push(request);
    return route(request);
  });
  baseUrl = server.url;

  function addInboundEmail(input: InboundEmailInput): string {
    const id = randomUUID();
    const to = Array.isArray(input.to) ? input.to : [input.to];
    const fromDomain = addressOnly(input.from).split("@")[1] ?? "example.com";
    const messageId = input.messageId ?? `<${randomUUID()}@${fromDomain}>`;
    const createdAt = input.receivedAt ?? new Date();
    const attachments: StoredAttachment[] = (input.attachments ?? []).map((attachment) => ({
      id: randomUUID(),
      filename: attachment.filename,
      contentType: attachment.contentType,
      content: typeof attachment.content === "string" ? Buffer.from(attachment.content) : attachment.content,
      contentId: attachment.contentId,
      inline: attachment.inline ?? attachment.contentId !== undefined,
    }));
    const headerPairs: [string, string][] = [
      ["from", input.from],
      ["to", to.join(", ")],
      ...(input.cc && input.cc.length > 0 ? [["cc", input.cc.join(", ")] as [string, string]] : []),
      ["subject", input.subject],
      ["message-id", messageId],
      ["date", createdAt.toUTCString()],
      ...Object.entries(input.headers ?? {}).map(([name, value]): [string, string] => [
        name.toLowerCase(),
        value,
      ]),
    ];
    const headers = Object.fromEntries(headerPairs);
    inbound.set(id, {
      id,
      createdAt,
      from: input.from,
      to,
      cc: input.cc ?? [],
      bcc: input.bcc ?? [],
      replyTo: input.replyTo ?? [],
      subject: input.subject,
      text: input.text,
      html: input.html,
      headers,
      messageId,
      attachments,
      raw: buildRawMime({
        headers: Object.entries(headers).map(([name, value]): [string, string] => [
          canonicalHeaderName(name),
          value,
        ]),
        text: input.text,
        html: input.html,
        attachments,
      }),
    });
    return id;
  }

  function emailReceivedEvent(emailId: string): EmailReceivedEvent {
    const email = inbound.get(emailId);
    if (!email) {
      throw new Error(`fake Resend: no inbound email ${emailId}; register it with addInboundEmail first`);
    }
    return {
      type: "email.received",
      created_at: new Date().toISOString(),
      data: {
        email_id: email.id,
        created_at: email.createdAt.toISOString(),
        from: email.from,
        to: email.to,
        bcc: email.bcc,
        cc: email.cc,
        received_for: email.to.map(addressOnly),
        message_id: email.messageId,
        subject: email.subject,
        attachments: email.attachments.map((attachment) => ({
          id: attachment.id,
          filename: attachment.filename,
          content_type: attachment.contentType,
          content_disposition: attachment.inline ? "inline" : "attachment",
          content_id: attachment.contentId ?? null,
        })),
      },
    };
  }

  return {
    url: server.url,
    apiKey,
    close: server.close,
    requests,
    sentEmails,
    failNextSends: (failure: ResendFailure, times = 1) => {
      if ("drop" in failure) {
        failures.push(failure, times);
        return;
      }
      const name = failure.name ?? DEFAULT_ERROR_NAMES[failure.status];
      failures.push(
        {
          status: failure.status,
          body: {
            statusCode: failure.status,
            name: name ?? "application_error",
            message: failure.message ?? "Injected failure from the fake Resend.",
          },
        },
        times,
      );
    },
    addInboundEmail,
    emailReceivedEvent,
    signedEmailReceivedWebhook: (emailId, { secret, timestamp, id }) =>
      signedWebhook({ secret, payload: emailReceivedEvent(emailId), timestamp, id }),
  };
}
