import { createHash, randomBytes, randomUUID } from "node:crypto";
import {
  bearerToken,
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
import { createPng, createWav } from "./media";

/**
 * A fake of Replicate's HTTP API (https://replicate.com/docs/reference/http) for the `replicate` SDK 1.x
 * with `new Replicate({ auth, baseUrl: `${fake.url}/v1`, useFileOutput: false })`. Predictions are
 * created by model or by version, advance starting → processing → succeeded over GET polls, and
 * produce outputs shaped like flux-schnell, xtts-v2 and whisper. Output files are served unauthenticated
 * under `/files/…`, like replicate.delivery.
 */

export type ReplicateStage = "create" | "get";

export interface ReplicateOutputContext {
  predictionId: string;
  /** Serves bytes from the fake and returns their URL. */
  addFile(content: Buffer, contentType: string, name: string): string;
}

export interface ReplicateModelDefinition {
  version: string;
  /** Returns the description of the first invalid input field, e.g. "prompt is required". */
  validate(input: Record<string, unknown>): string | undefined;
  output(input: Record<string, unknown>, context: ReplicateOutputContext): unknown;
}

export interface ReplicatePredictionRecord {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  headers: Record<string, string>;
  createdAt: Date;
  polls: number;
  status: "starting" | "processing" | "succeeded" | "failed" | "canceled";
  output: unknown;
  error: string | null;
  /** Set when created; revealed once the prediction reaches a terminal status. */
  pending: { output: unknown } | { error: string };
}

export interface ReplicateUploadedFile {
  id: string;
  name: string;
  contentType: string;
  content: Buffer;
}

/** A fixed output (JSON value) or one computed from the prediction's input. */
export type ReplicateOutputOverride =
  | ((input: Record<string, unknown>) => unknown)
  | string
  | number
  | boolean
  | null
  | unknown[]
  | { [key: string]: unknown };

export interface StartFakeReplicateOptions {
  /** Accepted as `Authorization: Bearer <token>` (or the legacy `Token <token>`). */
  apiToken?: string;
  /** GET polls answered "processing" before the prediction finishes (default 1). */
  processingPolls?: number;
}

export interface FakeReplicate {
  url: string;
  /** What to pass the SDK as `baseUrl`. */
  baseUrl: string;
  apiToken: string;
  close(): Promise<void>;
  requests: RecordedRequest[];
  predictions: ReplicatePredictionRecord[];
  uploadedFiles: ReplicateUploadedFile[];
  models: Map<string, ReplicateModelDefinition>;
  processingPolls: number;
  /**
   * Whether `Prefer: wait` (the SDK's default block mode) returns a finished prediction. Set false to
   * reproduce the sync-timeout case where the SDK resolves `run()` with `null`.
   */
  blockingWaitCompletes: boolean;
  /** Replaces the output of a model (`owner/name`), as a value or computed from the input. */
  setOutput(model: string, output: ReplicateOutputOverride): void;
  /** The next `times` predictions are created fine but end with status "failed" and this error. */
  failNextPredictions(error: string, times?: number): void;
  /** HTTP-level failures (Replicate's problem+json body unless given) for create or get calls. */
  failNext(failure: FakeFailure, options?: { times?: number; stage?: ReplicateStage }): void;
}

const ASPECT_RATIOS: Record<string, [number, number]> = {
  "1:1": [1024, 1024],
  "16:9": [1344, 768],
  "21:9": [1536, 640],
  "3:2": [1216, 832],
  "2:3": [832, 1216],
  "4:5": [896, 1088],
  "5:4": [1088, 896],
  "3:4": [896, 1152],
  "4:3": [1152, 896],
  "9:16": [768, 1344],
  "9:21": [640, 1536],
};

const XTTS_LANGUAGES = [
  "en",
  "es",
  "fr",
  "de",
  "it",
  "pt",
  "pl",
  "tr",
  "ru",
  "nl",
  "cs",
  "ar",
  "zh",
  "hu",
  "ko",
  "hi",
];

function fakeVersion(model: string): string {
  return createHash("sha256").update(`fake-replicate:${model}`).digest("hex");
}

function requireString(input: Record<string, unknown>, field: string): string | undefined {
  return typeof input[field] === "string" && input[field] !== "" ? undefined : `${field} is required`;
}

/**
 * Output files are PNG whatever `output_format` asks for (the fake has no WebP/JPEG encoder); the URL's
 * extension and Content-Type say PNG, so code that trusts the response rather than the request is right.
 */
export const fluxSchnellModel: ReplicateModelDefinition = {
  version: fakeVersion("black-forest-labs/flux-schnell"),
  validate: (input) => {
    const missing = requireString(input, "prompt");
    if (missing) {
      return missing;
    }
    if (input.aspect_ratio !== undefined && !(String(input.aspect_ratio) in ASPECT_RATIOS)) {
      return `aspect_ratio must be one of the following: ${Object.keys(ASPECT_RATIOS).join(", ")}`;
    }
    const count = input.num_outputs ?? 1;
    if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > 4) {
      return "num_outputs must be between 1 and 4";
    }
    if (input.output_format !== undefined && !["webp", "jpg", "png"].includes(String(input.output_format))) {
      return "output_format must be one of the following: webp, jpg, png";
    }
    return undefined;
  },
  output: (input, context) => {
    const [width, height] = ASPECT_RATIOS[String(input.aspect_ratio ?? "1:1")] ?? [1024, 1024];
    const png = createPng(width, height);
    const count = typeof input.num_outputs === "number" ? input.num_outputs : 1;
    return Array.from({ length: count }, (_, index) => context.addFile(png, "image/png", `out-${index}.png`));
  },
};

export const xttsV2Model: ReplicateModelDefinition = {
  version: "684bc3855b37866c0c65add2ff39c78f3dea3f4ff103a436465326e0f438d55e",
  validate: (input) => {
    const missing = requireString(input, "text") ?? requireString(input, "speaker");
    if (missing) {
      return missing;
    }
    if (input.language !== undefined && !XTTS_LANGUAGES.includes(String(input.language))) {
      return `language must be one of the following: ${XTTS_LANGUAGES.join(", ")}`;
    }
    return undefined;
  },
  output: (input, context) => {
    // About 15 characters per second of speech.
    const seconds = Math.max(0.5, String(input.text).length / 15);
    return context.addFile(createWav({ seconds, sampleRate: 24_000 }), "audio/wav", "output.wav");
  },
};

export const whisperModel: ReplicateModelDefinition = {
  version: "8099696689d249cf8b122d833c36ac3f75505c666a395ca40ef26f68e7d3d16e",
  validate: (input) => requireString(input, "audio"),
  output: (_input, context) => {
    const text = " Hello from the fake Replicate whisper model.";
    return {
      segments: [
        {
          id: 0,
          seek: 0,
          start: 0,
          end: 2.5,
          text,
          tokens: [],
          temperature: 0,
          avg_logprob: -0.2,
          compression_ratio: 1,
          no_speech_prob: 0.01,
        },
      ],
      transcription: text,
      translation: null,
      txt_file: context.addFile(Buffer.from(text.trim()), "text/plain", "transcription.txt"),
      srt_file: context.addFile(
        Buffer.from(`1\n00:00:00,000 --> 00:00:02,500\n${text.trim()}\n`),
        "text/plain",
        "transcription.srt",
      ),
      detected_language: "english",
    };
  },
};

function problem(
  status: number,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
): FakeResponse {
  return {
    status,
    headers: { "content-type": "application/problem+json" },
    json: { title, detail, status, ...extra },
  };
}

const PROBLEM_TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Unauthenticated",
  402: "Insufficient credit",
  404: "Not found",
  422: "Input validation failed",
  429: "Request was throttled",
  500: "Internal server error",
  503: "Service unavailable",
};

function predictionId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(26), (byte) => alphabet[byte % alphabet.length]).join("");
}

/**
 * Multipart bodies, including the SDK's file upload whose explicit `Content-Type: multipart/form-data`
 * carries no boundary: the boundary is read from the body's first line, as lenient servers do.
 */
function parseMultipart(
  body: Buffer,
): { name: string; filename?: string; contentType?: string; content: Buffer }[] {
  const firstLineEnd = body.indexOf("\r\n");
  if (firstLineEnd < 0 || !body.subarray(0, 2).equals(Buffer.from("--"))) {
    return [];
  }
  const delimiter = body.subarray(0, firstLineEnd);
  const parts: { name: string; filename?: string; contentType?: string; content: Buffer }[] = [];
  let start = firstLineEnd + 2;
  while (start < body.length) {
    const end = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), start);
    if (end < 0) {
      break;
    }
    const part = body.subarray(start, end);
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd >= 0) {
      const head = part.subarray(0, headerEnd).toString("utf8");
      const name = /name="([^"]*)"/i.exec(head)?.[1];
      if (name !== undefined) {
        parts.push({
          name,
          filename: /filename="([^"]*)"/i.exec(head)?.[1],
          contentType: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim(),
          content: part.subarray(headerEnd + 4),
        });
      }
    }
    start = end + 2 + delimiter.length + 2;
  }
  return parts;
}

export async function startFakeReplicate(options: StartFakeReplicateOptions = {}): Promise<FakeReplicate> {
  const apiToken = options.apiToken ?? "r8_test_token";
  const requests: RecordedRequest[] = [];
  const predictions: ReplicatePredictionRecord[] = [];
  const uploadedFiles: ReplicateUploadedFile[] = [];
  const files = new Map<string, { content: Buffer; contentType: string }>();
  const failures = new FailureQueue<ReplicateStage>();
  const predictionFailures: string[] = [];
  const outputs = new Map<string, ReplicateOutputOverride>();
  const models = new Map<string, ReplicateModelDefinition>([
    ["black-forest-labs/flux-schnell", fluxSchnellModel],
    ["lucataco/xtts-v2", xttsV2Model],
    ["openai/whisper", whisperModel],
  ]);
  let baseUrl = "";

  function serialize(record: ReplicatePredictionRecord) {
    const api = `${baseUrl}/v1/predictions/${record.id}`;
    const done = ["succeeded", "failed", "canceled"].includes(record.status);
    return {
      id: record.id,
      model: record.model,
      version: record.version,
      input: record.input,
      logs: record.status === "starting" ? "" : "Running prediction...\n",
      output: record.output,
      data_removed: false,
      error: record.error,
      status: record.status,
      created_at: record.createdAt.toISOString(),
      ...(record.status !== "starting" ? { started_at: record.createdAt.toISOString() } : {}),
      ...(done ? { completed_at: new Date().toISOString(), metrics: { predict_time: 0.01 } } : {}),
      urls: {
        cancel: `${api}/cancel`,
        get: api,
        stream: `${baseUrl}/v1/stream/${record.id}`,
        web: `https://replicate.com/p/${record.id}`,
      },
    };
  }

  function finish(record: ReplicatePredictionRecord): void {
    if ("error" in record.pending) {
      record.status = "failed";
      record.error = record.pending.error;
    } else {
      record.status = "succeeded";
      record.output = record.pending.output;
    }
  }

  function advance(record: ReplicatePredictionRecord): void {
    if (record.status !== "starting" && record.status !== "processing") {
      return;
    }
    record.polls += 1;
    if (record.polls <= fake.processingPolls) {
      record.status = "processing";
    } else {
      finish(record);
    }
  }

  function create(request: RecordedRequest, modelName: string | undefined): FakeResponse {
    const body = parseJsonBody(request);
    if (!isRecord(body)) {
      return problem(400, "Bad request", "The request body must be a JSON object.");
    }
    let name = modelName;
    if (name === undefined) {
      const version = typeof body.version === "string" ? body.version : "";
      // `version` may be a bare id, `owner/name:id`, or (for official models) `owner/name`.
      const [ref, id = ref] = version.split(":");
      name = [...models.entries()].find(
        ([candidate, model]) => candidate === ref || model.version === id,
      )?.[0];
      if (name === undefined) {
        return problem(
          422,
          "Invalid version",
          "The specified version does not exist (or perhaps you don't have permission to use it?)",
        );
      }
    }
    const model = models.get(name);
    if (!model) {
      return problem(404, "Not found", `Model ${name} not found`);
    }
    if (!isRecord(body.input)) {
      return problem(422, "Input validation failed", "- input: input is required\n", {
        invalid_fields: [{ type: "required", field: "input", description: "input is required" }],
      });
    }
    const input = body.input;
    const invalid = model.validate(input);
    if (invalid) {
      return problem(422, "Input validation failed", `- input: ${invalid}\n`, {
        invalid_fields: [{ type: "invalid", field: "input", description: invalid }],
      });
    }
    const id = predictionId();
    const context: ReplicateOutputContext = {
      predictionId: id,
      addFile: (content, contentType, fileName) => {
        const path = `${id}/${randomUUID()}/${fileName}`;
        files.set(path, { content, contentType });
        return `${baseUrl}/files/${path}`;
      },
    };
    const failure = predictionFailures.shift();
    const override = outputs.get(name);
    let pending: ReplicatePredictionRecord["pending"];
    if (failure !== undefined) {
      pending = { error: failure };
    } else if (override === undefined) {
      pending = { output: model.output(input, context) };
    } else {
      pending = { output: typeof override === "function" ? override(input) : override };
    }
    const record: ReplicatePredictionRecord = {
      id,
      model: name,
      version: model.version,
      input,
      headers: request.headers,
      createdAt: new Date(),
      polls: 0,
      status: "starting",
      output: null,
      error: null,
      pending,
    };
    predictions.push(record);
    if (/^wait\b/.test(request.headers.prefer ?? "")) {
      if (fake.blockingWaitCompletes) {
        finish(record);
      } else {
        record.status = "processing";
      }
    }
    return json(201, serialize(record));
  }

  function uploadFile(request: RecordedRequest): FakeResponse {
    const content = parseMultipart(request.body).find((part) => part.name === "content");
    if (!content) {
      return problem(400, "Bad request", "Missing file content in the `content` field.");
    }
    const id = predictionId();
    const file: ReplicateUploadedFile = {
      id,
      name: content.filename ?? id,
      contentType: content.contentType ?? "application/octet-stream",
      content: content.content,
    };
    uploadedFiles.push(file);
    return json(201, fileJson(file));
  }

  function fileJson(file: ReplicateUploadedFile) {
    return {
      id: file.id,
      name: file.name,
      content_type: file.contentType,
      size: file.content.length,
      etag: createHash("md5").update(file.content).digest("hex"),
      checksums: {
        sha256: createHash("sha256").update(file.content).digest("hex"),
        md5: createHash("md5").update(file.content).digest("hex"),
      },
      metadata: {},
      created_at: new Date().toISOString(),
      expires_at: new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString(),
      urls: { get: `${baseUrl}/v1/files/${file.id}` },
    };
  }

  function injected(stage: ReplicateStage): FakeResponse | undefined {
    const failure = failures.take(stage);
    return failure
      ? failureResponse(failure, (status, message) => ({
          title: PROBLEM_TITLES[status] ?? "Error",
          detail: message ?? `Injected ${status} from the fake Replicate`,
          status,
        }))
      : undefined;
  }

  function route(request: RecordedRequest): FakeResponse {
    const { method, path } = request;
    if (method === "GET" && path.startsWith("/files/")) {
      const file = files.get(path.slice("/files/".length));
      return file
        ? { status: 200, headers: { "content-type": file.contentType }, body: file.content }
        : { status: 404 };
    }
    const authorization = request.headers.authorization ?? "";
    const token = bearerToken(request) ?? /^Token\s+(.+)$/i.exec(authorization)?.[1];
    if (!token) {
      return problem(401, "Unauthenticated", "You did not pass an authentication token");
    }
    if (token !== apiToken) {
      return problem(401, "Unauthenticated", "You did not pass a valid authentication token");
    }
    const segments = path.split("/").filter(Boolean);
    if (segments[0] !== "v1") {
      return problem(404, "Not found", "The requested resource could not be found.");
    }
    const [, resource, a, b, c] = segments;
    if (
      resource === "models" &&
      a &&
      b &&
      c === "predictions" &&
      segments.length === 5 &&
      method === "POST"
    ) {
      return injected("create") ?? create(request, `${a}/${b}`);
    }
    if (resource === "predictions" && segments.length === 2) {
      if (method === "POST") {
        return injected("create") ?? create(request, undefined);
      }
      return json(200, { previous: null, next: null, results: [...predictions].reverse().map(serialize) });
    }
    if (resource === "predictions" && a) {
      const record = predictions.find((candidate) => candidate.id === a);
      if (!record) {
        return problem(404, "Not found", "The requested resource could not be found.");
      }
      if (segments.length === 3 && method === "GET") {
        const failure = injected("get");
        if (failure) {
          return failure;
        }
        advance(record);
        return json(200, serialize(record));
      }
      if (segments.length === 4 && b === "cancel" && method === "POST") {
        if (record.status === "starting" || record.status === "processing") {
          record.status = "canceled";
        }
        return json(200, serialize(record));
      }
    }
    if (resource === "files") {
      if (segments.length === 2 && method === "POST") {
        return uploadFile(request);
      }
      const file = uploadedFiles.find((candidate) => candidate.id === a);
      if (file && segments.length === 3 && method === "GET") {
        return json(200, fileJson(file));
      }
      if (file && segments.length === 4 && b === "download" && method === "GET") {
        return { status: 200, headers: { "content-type": file.contentType }, body: file.content };
      }
    }
    return problem(404, "Not found", "The requested resource could not be found.");
  }

  const server = await startFakeHttpServer((request) => {
    requests.push(request);
    return route(request);
  });
  baseUrl = server.url;

  const fake: FakeReplicate = {
    url: server.url,
    baseUrl: `${server.url}/v1`,
    apiToken,
    close: server.close,
    requests,
    predictions,
    uploadedFiles,
    models,
    processingPolls: options.processingPolls ?? 1,
    blockingWaitCompletes: true,
    setOutput: (model, output) => {
      outputs.set(model, output);
    },
    failNextPredictions: (error, times = 1) => {
      for (let i = 0; i < times; i++) {
        predictionFailures.push(error);
      }
    },
    failNext: (failure, { times = 1, stage } = {}) => failures.push(failure, times, stage),
  };
  return fake;
}
