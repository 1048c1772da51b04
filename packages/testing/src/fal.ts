import { randomInt, randomUUID } from "node:crypto";
import {
  FailureQueue,
  type FakeFailure,
  type FakeResponse,
  failureResponse,
  isRecord,
  json,
  parseJsonBody,
  type RecordedRequest,
  startFakeHttpServer,
} from "./http";
import { createPng } from "./media";

/**
 * A fake of fal.ai's queue API for `@fal-ai/client` 1.x. The client's hosts are fixed
 * (`queue.fal.run`, `fal.run`, `rest.fal.ai`), so the code under test installs a `requestMiddleware`
 * that replaces the origin with `fake.url` and keeps the path and query:
 *   https://queue.fal.run/fal-ai/flux/dev → ${fake.url}/fal-ai/flux/dev
 * Only the queue protocol is spoken (what `subscribe` and `queue.*` use): POST submits, status and
 * result live under the app id without the endpoint's sub-path (`fal-ai/flux/requests/{id}`).
 */

export type FalStage = "submit" | "status" | "result";

export interface FalRequestRecord {
  requestId: string;
  endpointId: string;
  /** `owner/alias` — the prefix of the status and result URLs. */
  appId: string;
  input: unknown;
  headers: Record<string, string>;
  submittedAt: Date;
  statusPolls: number;
  cancelled: boolean;
  /** What the result URL answers once the request is COMPLETED. */
  outcome: FalOutcome;
}

export type FalOutcome = { status: 200; output: unknown } | { status: number; detail: unknown };

export interface FalHandlerContext {
  requestId: string;
  endpointId: string;
  /** Serves bytes from the fake (no auth, like fal's CDN) and returns their URL. */
  addFile(content: Buffer, contentType: string, extension: string): string;
}

/** Computes an endpoint's output; return `{ status, detail }` for a model-side failure (e.g. 422). */
export type FalHandler = (input: Record<string, unknown>, context: FalHandlerContext) => FalOutcome;

export interface StartFakeFalOptions {
  /** Accepted as `Authorization: Key <key>`; fal keys have the form `<key_id>:<key_secret>`. */
  apiKey?: string;
  /** Status polls answered IN_QUEUE/IN_PROGRESS before COMPLETED (default 1). */
  pollsBeforeCompleted?: number;
}

export interface FakeFal {
  url: string;
  apiKey: string;
  close(): Promise<void>;
  requests: RecordedRequest[];
  /** Queue submissions accepted, in order. */
  submissions: FalRequestRecord[];
  /** Overrides (or adds) the output of an endpoint id such as `fal-ai/flux/dev`. */
  setHandler(endpointId: string, handler: FalHandler): void;
  /** HTTP-level failures for the next `times` requests of a stage (any stage when omitted). */
  failNext(failure: FakeFailure, options?: { times?: number; stage?: FalStage }): void;
  /** The next `times` submissions are accepted but complete with this error (fal's `{detail}` body). */
  failNextRequests(error: { status: number; detail: unknown }, times?: number): void;
  pollsBeforeCompleted: number;
}

const IMAGE_SIZES: Record<string, [number, number]> = {
  square_hd: [1024, 1024],
  square: [512, 512],
  portrait_4_3: [768, 1024],
  portrait_16_9: [576, 1024],
  landscape_4_3: [1024, 768],
  landscape_16_9: [1024, 576],
};

function validationDetail(field: string, msg: string, type: string) {
  return [{ loc: ["body", field], msg, type }];
}

/** Text-to-image in the shape of fal's FLUX endpoints (`fal-ai/flux/dev`, `/schnell`, `flux-pro`…). */
export const fluxHandler: FalHandler = (input, context) => {
  if (typeof input.prompt !== "string" || input.prompt.trim() === "") {
    return { status: 422, detail: validationDetail("prompt", "field required", "value_error.missing") };
  }
  let size: [number, number] | undefined;
  if (input.image_size === undefined) {
    size = IMAGE_SIZES.landscape_4_3;
  } else if (typeof input.image_size === "string") {
    size = IMAGE_SIZES[input.image_size];
  } else if (
    isRecord(input.image_size) &&
    typeof input.image_size.width === "number" &&
    typeof input.image_size.height === "number"
  ) {
    size = [input.image_size.width, input.image_size.height];
  }
  if (!size || size[0] < 1 || size[1] < 1 || size[0] > 14_142 || size[1] > 14_142) {
    return {
      status: 422,
      detail: validationDetail(
        "image_size",
        "unexpected value; permitted: square_hd, square, …",
        "value_error",
      ),
    };
  }
  const count = input.num_images ?? 1;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > 4) {
    return {
      status: 422,
      detail: validationDetail("num_images", "ensure this value is between 1 and 4", "value_error.number"),
    };
  }
  const [width, height] = size;
  const png = createPng(width, height);
  const images = Array.from({ length: count }, () => ({
    url: context.addFile(png, "image/png", "png"),
    width,
    height,
    content_type: "image/png",
  }));
  return {
    status: 200,
    output: {
      images,
      timings: { inference: 0.01 },
      seed: typeof input.seed === "number" ? input.seed : randomInt(2 ** 31),
      has_nsfw_concepts: images.map(() => false),
      prompt: input.prompt,
    },
  };
};

function appIdOf(endpointId: string): string {
  const parts = endpointId.split("/");
  const namespaced = parts[0] === "workflows" || parts[0] === "comfy";
  return parts.slice(0, namespaced ? 3 : 2).join("/");
}

export async function startFakeFal(options: StartFakeFalOptions = {}): Promise<FakeFal> {
  const apiKey = options.apiKey ?? "fal_test_key_id:fal_test_key_secret";
  const requests: RecordedRequest[] = [];
  const submissions: FalRequestRecord[] = [];
  const handlers = new Map<string, FalHandler>();
  const files = new Map<string, { content: Buffer; contentType: string }>();
  const failures = new FailureQueue<FalStage>();
  const modelFailures: { status: number; detail: unknown }[] = [];
  let baseUrl = "";

  const handlerFor = (endpointId: string): FalHandler | undefined =>
    handlers.get(endpointId) ?? (/^fal-ai\/flux(?:[-/]|$)/.test(endpointId) ? fluxHandler : undefined);

  const withId = (response: FakeResponse, requestId: string): FakeResponse =>
    "drop" in response
      ? response
      : { ...response, headers: { ...response.headers, "x-fal-request-id": requestId } };

  function injected(stage: FalStage): FakeResponse | undefined {
    const failure = failures.take(stage);
    return failure
      ? failureResponse(failure, (status, message) => ({
          detail: message ?? `Injected ${status} from the fake fal`,
        }))
      : undefined;
  }

  function statusBody(record: FalRequestRecord, logs: boolean) {
    const urls = {
      response_url: `${baseUrl}/${record.appId}/requests/${record.requestId}`,
      status_url: `${baseUrl}/${record.appId}/requests/${record.requestId}/status`,
      cancel_url: `${baseUrl}/${record.appId}/requests/${record.requestId}/cancel`,
    };
    const polls = fake.pollsBeforeCompleted;
    if (!record.cancelled && record.statusPolls <= polls) {
      if (record.statusPolls === 0 || record.statusPolls < polls) {
        return { status: "IN_QUEUE", queue_position: 0, ...urls };
      }
      return { status: "IN_PROGRESS", logs: logs ? [] : null, ...urls };
    }
    const failed = record.outcome.status !== 200 || record.cancelled;
    return {
      status: "COMPLETED",
      logs: logs ? [] : null,
      metrics: { inference_time: 0.01 },
      ...urls,
      ...(failed
        ? {
            error: record.cancelled ? "Request was cancelled" : "Request failed",
            error_type: "request_error",
          }
        : {}),
    };
  }

  function submit(request: RecordedRequest, endpointId: string): FakeResponse {
    const handler = handlerFor(endpointId);
    if (!handler) {
      return json(404, { detail: `Application '${appIdOf(endpointId)}' not found` });
    }
    const input = request.body.length === 0 ? {} : parseJsonBody(request);
    if (!isRecord(input)) {
      return json(422, { detail: validationDetail("body", "value is not a valid dict", "type_error.dict") });
    }
    const requestId = randomUUID();
    const context: FalHandlerContext = {
      requestId,
      endpointId,
      addFile: (content, contentType, extension) => {
        const name = `${randomUUID()}.${extension}`;
        files.set(name, { content, contentType });
        return `${baseUrl}/files/${name}`;
      },
    };
    const modelFailure = modelFailures.shift();
    const record: FalRequestRecord = {
      requestId,
      endpointId,
      appId: appIdOf(endpointId),
      input,
      headers: request.headers,
      submittedAt: new Date(),
      statusPolls: 0,
      cancelled: false,
      outcome: modelFailure ?? handler(input, context),
    };
    submissions.push(record);
    return withId(json(200, { request_id: requestId, ...statusBody(record, false) }), requestId);
  }

  function route(request: RecordedRequest): FakeResponse {
    const { method, path } = request;
    if (method === "GET" && path.startsWith("/files/")) {
      const file = files.get(path.slice("/files/".length));
      return file
        ? { status: 200, headers: { "content-type": file.contentType }, body: file.content }
        : json(404, { detail: "File not found" });
    }
    const authorization = request.headers.authorization ?? "";
    if (!authorization.startsWith("Key ")) {
      return json(401, {
        detail: "Missing or invalid Authorization header. Expected 'Key <key_id>:<key_secret>'.",
      });
    }
    if (authorization.slice(4).trim() !== apiKey) {
      return json(401, { detail: "No user found for Key ID and Secret" });
    }

    const match = /^\/(.+)\/requests\/([^/]+)(\/status|\/cancel)?$/.exec(path);
    if (!match) {
      if (method !== "POST") {
        return json(405, { detail: "Method Not Allowed" });
      }
      return injected("submit") ?? submit(request, path.replace(/^\/+|\/+$/g, ""));
    }
    const [, appId, requestId = "", action] = match;
    const record = submissions.find((candidate) => candidate.requestId === requestId);
    if (!record || record.appId !== appId) {
      return json(404, { detail: `Request ${requestId} not found` });
    }
    if (action === "/status" && method === "GET") {
      const failure = injected("status");
      if (failure) {
        return withId(failure, requestId);
      }
      record.statusPolls += 1;
      return withId(json(200, statusBody(record, request.query.get("logs") === "1")), requestId);
    }
    if (action === "/cancel" && method === "PUT") {
      if (statusBody(record, false).status === "COMPLETED") {
        return withId(json(400, { status: "ALREADY_COMPLETED" }), requestId);
      }
      record.cancelled = true;
      return withId(json(202, { status: "CANCELLATION_REQUESTED" }), requestId);
    }
    if (action === undefined && method === "GET") {
      const failure = injected("result");
      if (failure) {
        return withId(failure, requestId);
      }
      if (statusBody(record, false).status !== "COMPLETED") {
        return withId(json(400, { detail: "Request is still in progress" }), requestId);
      }
      if (record.cancelled) {
        return withId(json(400, { detail: "Request was cancelled" }), requestId);
      }
      const { outcome } = record;
      return withId(
        "output" in outcome ? json(200, outcome.output) : json(outcome.status, { detail: outcome.detail }),
        requestId,
      );
    }
    return json(405, { detail: "Method Not Allowed" });
  }

  const server = await startFakeHttpServer((request) => {
    requests.push(request);
    return route(request);
  });
  baseUrl = server.url;

  const fake: FakeFal = {
    url: server.url,
    apiKey,
    close: server.close,
    requests,
    submissions,
    pollsBeforeCompleted: options.pollsBeforeCompleted ?? 1,
    setHandler: (endpointId, handler) => {
      handlers.set(endpointId, handler);
    },
    failNext: (failure, { times = 1, stage } = {}) => failures.push(failure, times, stage),
    failNextRequests: (error, times = 1) => {
      for (let i = 0; i < times; i++) {
        modelFailures.push(error);
      }
    },
  };
  return fake;
}
