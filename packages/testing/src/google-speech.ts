import { randomInt } from "node:crypto";
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

/**
 * A fake of Google Cloud Speech-to-Text v1 synchronous recognition (`POST /v1/speech:recognize`) for a
 * thin REST client pointed at `fake.url`. The API key comes as `X-Goog-Api-Key` or `?key=`; errors use
 * Google's `{error:{code,message,status}}` envelope.
 */

export interface SpeechAlternative {
  transcript: string;
  confidence: number;
}

export interface SpeechRecognition {
  config: Record<string, unknown>;
  /** Decoded `audio.content` (empty when `audio.uri` was used). */
  audio: Buffer;
  audioUri: string | undefined;
  /** Duration the fake derived from LINEAR16 audio, when it could. */
  durationSeconds: number | undefined;
  headers: Record<string, string>;
}

export interface StartFakeGoogleSpeechOptions {
  apiKey?: string;
}

export interface FakeGoogleSpeech {
  url: string;
  apiKey: string;
  close(): Promise<void>;
  requests: RecordedRequest[];
  recognitions: SpeechRecognition[];
  /** What the next recognitions transcribe; an empty list answers like silence (no `results`). */
  setAlternatives(alternatives: SpeechAlternative[]): void;
  /** The next `times` recognize calls fail (Google's error envelope unless a body is given). */
  failNext(failure: FakeFailure, times?: number): void;
}

const ENCODINGS = [
  "ENCODING_UNSPECIFIED",
  "LINEAR16",
  "FLAC",
  "MULAW",
  "AMR",
  "AMR_WB",
  "OGG_OPUS",
  "SPEEX_WITH_HEADER_BYTE",
  "MP3",
  "WEBM_OPUS",
];

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

const SYNC_LIMIT_SECONDS = 60;

function googleError(code: number, message: string, details?: unknown[]): FakeResponse {
  return json(code, {
    error: { code, message, status: STATUS_NAMES[code] ?? "UNKNOWN", ...(details ? { details } : {}) },
  });
}

function invalid(message: string): FakeResponse {
  return googleError(400, message);
}

/** Seconds of LINEAR16 audio; a RIFF/WAVE header (which Google reads) wins over the config. */
function linear16Duration(audio: Buffer, config: Record<string, unknown>): number | undefined {
  if (
    audio.subarray(0, 4).toString("latin1") === "RIFF" &&
    audio.subarray(8, 12).toString("latin1") === "WAVE"
  ) {
    const channels = audio.readUInt16LE(22);
    const rate = audio.readUInt32LE(24);
    const bits = audio.readUInt16LE(34);
    return rate > 0 ? (audio.length - 44) / (rate * channels * (bits / 8)) : undefined;
  }
  const rate = typeof config.sampleRateHertz === "number" ? config.sampleRateHertz : undefined;
  const channels = typeof config.audioChannelCount === "number" ? config.audioChannelCount : 1;
  return rate ? audio.length / (rate * channels * 2) : undefined;
}

export async function startFakeGoogleSpeech(
  options: StartFakeGoogleSpeechOptions = {},
): Promise<FakeGoogleSpeech> {
  const apiKey = options.apiKey ?? "goog_test_key";
  const requests: RecordedRequest[] = [];
  const recognitions: SpeechRecognition[] = [];
  const failures = new FailureQueue();
  let alternatives: SpeechAlternative[] = [
    { transcript: "hello from the fake google speech api", confidence: 0.93 },
  ];

  function recognize(request: RecordedRequest): FakeResponse {
    const failure = failures.take();
    if (failure) {
      return failureResponse(failure, (status, message) => ({
        error: {
          code: status,
          message: message ?? `Injected ${status} from the fake`,
          status: STATUS_NAMES[status],
        },
      }));
    }
    const body = parseJsonBody(request);
    if (!isRecord(body)) {
      return invalid("Invalid JSON payload received. Unexpected token.");
    }
    const { config, audio } = body;
    if (!isRecord(config)) {
      return invalid("RecognitionConfig is required.");
    }
    if (config.encoding !== undefined && !ENCODINGS.includes(String(config.encoding))) {
      return invalid(
        `Invalid value at 'config.encoding' (type.googleapis.com/google.cloud.speech.v1.RecognitionConfig.AudioEncoding), "${String(config.encoding)}"`,
      );
    }
    if (typeof config.languageCode !== "string" || config.languageCode === "") {
      return invalid("Invalid recognition 'config': missing language_code.");
    }
    if (!isRecord(audio)) {
      return invalid("RecognitionAudio not set.");
    }
    const hasContent = typeof audio.content === "string";
    const hasUri = typeof audio.uri === "string";
    if (hasContent === hasUri) {
      return invalid("RecognitionAudio: exactly one of 'content' or 'uri' must be set.");
    }
    let bytes = Buffer.alloc(0);
    if (hasContent) {
      const content = String(audio.content);
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(content)) {
        return invalid("Invalid value at 'audio.content' (TYPE_BYTES), Base64 decoding failed.");
      }
      bytes = Buffer.from(content, "base64");
    }
    const encoding = String(config.encoding ?? "ENCODING_UNSPECIFIED");
    const duration = encoding === "LINEAR16" ? linear16Duration(bytes, config) : undefined;
    if (duration !== undefined && duration > SYNC_LIMIT_SECONDS) {
      return invalid(
        "Sync input too long. For audio longer than 1 min use LongRunningRecognize with a 'uri' parameter.",
      );
    }
    recognitions.push({
      config,
      audio: bytes,
      audioUri: hasUri ? String(audio.uri) : undefined,
      durationSeconds: duration,
      headers: request.headers,
    });
    const billed = `${Math.max(1, Math.ceil(duration ?? 1))}s`;
    const requestId = String(randomInt(2 ** 47));
    if (alternatives.length === 0) {
      return json(200, { totalBilledTime: billed, requestId });
    }
    const maxAlternatives =
      typeof config.maxAlternatives === "number" ? Math.max(1, config.maxAlternatives) : 1;
    return json(200, {
      results: [
        {
          alternatives: alternatives.slice(0, maxAlternatives),
          resultEndTime: `${(duration ?? 1).toFixed(3)}s`,
          languageCode: config.languageCode.toLowerCase(),
        },
      ],
      totalBilledTime: billed,
      requestId,
    });
  }

  function route(request: RecordedRequest): FakeResponse {
    const key = request.headers["x-goog-api-key"] ?? request.query.get("key") ?? undefined;
    if (!key) {
      return googleError(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    if (key !== apiKey) {
      return googleError(400, "API key not valid. Please pass a valid API key.", [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
        },
      ]);
    }
    if (request.path === "/v1/speech:recognize") {
      return request.method === "POST" ? recognize(request) : googleError(405, "Method Not Allowed");
    }
    return googleError(404, `The requested URL ${request.path} was not found on this server.`);
  }

  const server = await startFakeHttpServer((request) => {
    requests.push(request);
    return route(request);
  });

  return {
    url: server.url,
    apiKey,
    close: server.close,
    requests,
    recognitions,
    setAlternatives: (next) => {
      alternatives = next;
    },
    failNext: (failure, times = 1) => failures.push(failure, times),
  };
}
