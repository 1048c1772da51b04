import { randomUUID } from "node:crypto";
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
import { createPcm, createSilentMp3 } from "./media";

/**
 * A fake of ElevenLabs text-to-speech (`POST /v1/text-to-speech/{voice_id}` and its `/stream` twin)
 * for a thin fetch client pointed at `fake.url`. Answers real audio bytes in the requested
 * `output_format` (silence, about 15 characters of text per second).
 */

export interface ElevenLabsVoice {
  voice_id: string;
  name: string;
}

export interface ElevenLabsSynthesis {
  voiceId: string;
  outputFormat: string;
  text: string;
  modelId: string;
  voiceSettings: Record<string, unknown> | undefined;
  /** The parsed JSON body as sent. */
  body: Record<string, unknown>;
  headers: Record<string, string>;
  streamed: boolean;
  /** The bytes answered. */
  audio: Buffer;
}

export interface StartFakeElevenLabsOptions {
  /** Accepted as the `xi-api-key` header. */
  apiKey?: string;
  /** Voices that exist; others answer 404 voice_not_found. */
  voices?: ElevenLabsVoice[];
}

export interface FakeElevenLabs {
  url: string;
  apiKey: string;
  close(): Promise<void>;
  requests: RecordedRequest[];
  syntheses: ElevenLabsSynthesis[];
  voices: ElevenLabsVoice[];
  /** Answer these bytes instead of generated silence (the Content-Type still follows output_format). */
  setAudio(audio: Buffer | undefined): void;
  /** The next `times` synthesis calls fail (ElevenLabs' `{detail:{status,message}}` body unless given). */
  failNext(failure: FakeFailure, times?: number): void;
}

export const DEFAULT_ELEVENLABS_VOICES: ElevenLabsVoice[] = [
  { voice_id: "21m00Tcm4TlvDq8ikWAM", name: "Rachel" },
  { voice_id: "JBFqnCBsd6RMkjVDRZzb", name: "George" },
];

const MODEL_CHARACTER_LIMITS: Record<string, number> = {
  eleven_multilingual_v2: 10_000,
  eleven_v3: 5_000,
  eleven_flash_v2_5: 40_000,
  eleven_turbo_v2_5: 40_000,
  eleven_flash_v2: 30_000,
  eleven_turbo_v2: 30_000,
  eleven_monolingual_v1: 10_000,
};

const ERROR_STATUSES: Record<number, string> = {
  400: "invalid_request",
  401: "invalid_api_key",
  404: "not_found",
  422: "validation_error",
  429: "too_many_concurrent_requests",
  500: "internal_server_error",
  503: "service_unavailable",
};

function detail(status: number, code: string, message: string): FakeResponse {
  return json(status, { detail: { status: code, message } });
}

/** Audio bytes and Content-Type for an `output_format` such as `mp3_44100_128` or `pcm_16000`. */
function synthesize(format: string, seconds: number): { audio: Buffer; contentType: string } | undefined {
  const [codec, rateText, bitrateText] = format.split("_");
  const sampleRate = Number(rateText);
  if (codec === "mp3" && bitrateText !== undefined) {
    try {
      return {
        audio: createSilentMp3({ seconds, sampleRate, bitrateKbps: Number(bitrateText) }),
        contentType: "audio/mpeg",
      };
    } catch {
      return undefined;
    }
  }
  if (codec === "pcm" && [8000, 16_000, 22_050, 24_000, 44_100, 48_000].includes(sampleRate)) {
    return { audio: createPcm({ seconds, sampleRate }), contentType: "audio/pcm" };
  }
  if (codec === "ulaw" && sampleRate === 8000) {
    return { audio: Buffer.alloc(Math.round(seconds * 8000), 0xff), contentType: "audio/basic" };
  }
  if (codec === "alaw" && sampleRate === 8000) {
    return { audio: Buffer.alloc(Math.round(seconds * 8000), 0xd5), contentType: "audio/alaw" };
  }
  return undefined;
}

export async function startFakeElevenLabs(options: StartFakeElevenLabsOptions = {}): Promise<FakeElevenLabs> {
  const apiKey = options.apiKey ?? "el_test_key";
  const voices = options.voices ?? DEFAULT_ELEVENLABS_VOICES;
  const requests: RecordedRequest[] = [];
  const syntheses: ElevenLabsSynthesis[] = [];
  const failures = new FailureQueue();
  let customAudio: Buffer | undefined;

  function textToSpeech(request: RecordedRequest, voiceId: string, streamed: boolean): FakeResponse {
    const failure = failures.take();
    if (failure) {
      return failureResponse(failure, (status, message) => ({
        detail: {
          status: ERROR_STATUSES[status] ?? "error",
          message: message ?? `Injected ${status} from the fake`,
        },
      }));
    }
    if (!voices.some((voice) => voice.voice_id === voiceId)) {
      return detail(404, "voice_not_found", `A voice with voice_id '${voiceId}' was not found.`);
    }
    const body = parseJsonBody(request);
    if (!isRecord(body)) {
      return json(422, {
        detail: [{ type: "json_invalid", loc: ["body"], msg: "JSON decode error", input: null }],
      });
    }
    if (typeof body.text !== "string" || body.text.trim() === "") {
      return json(422, {
        detail: [{ type: "missing", loc: ["body", "text"], msg: "Field required", input: body }],
      });
    }
    const modelId = body.model_id === undefined ? "eleven_multilingual_v2" : String(body.model_id);
    const limit = MODEL_CHARACTER_LIMITS[modelId];
    if (limit === undefined) {
      return detail(400, "model_not_found", `A model with model ID ${modelId} does not exist.`);
    }
    if (body.text.length > limit) {
      return detail(
        400,
        "max_character_limit_exceeded",
        `You are sending ${body.text.length} characters in a single request, over the limit of ${limit} for ${modelId}.`,
      );
    }
    if (body.voice_settings !== undefined && body.voice_settings !== null) {
      const settings = body.voice_settings;
      if (!isRecord(settings)) {
        return json(422, {
          detail: [{ type: "model_type", loc: ["body", "voice_settings"], msg: "Input should be an object" }],
        });
      }
      for (const field of ["stability", "similarity_boost", "style"]) {
        const value = settings[field];
        if (value !== undefined && (typeof value !== "number" || value < 0 || value > 1)) {
          return json(422, {
            detail: [
              {
                type: "value_error",
                loc: ["body", "voice_settings", field],
                msg: `${field} must be between 0 and 1`,
              },
            ],
          });
        }
      }
    }
    const outputFormat = request.query.get("output_format") ?? "mp3_44100_128";
    const generated = synthesize(outputFormat, Math.max(0.5, body.text.length / 15));
    if (!generated) {
      return detail(
        400,
        "invalid_output_format",
        `Output format ${outputFormat} is not supported by the fake.`,
      );
    }
    const audio = customAudio ?? generated.audio;
    syntheses.push({
      voiceId,
      outputFormat,
      text: body.text,
      modelId,
      voiceSettings: isRecord(body.voice_settings) ? body.voice_settings : undefined,
      body,
      headers: request.headers,
      streamed,
      audio,
    });
    return {
      status: 200,
      headers: {
        "content-type": generated.contentType,
        "request-id": randomUUID().replace(/-/g, ""),
        "x-character-count": String(body.text.length),
      },
      body: audio,
    };
  }

  function route(request: RecordedRequest): FakeResponse {
    const key = request.headers["xi-api-key"];
    if (!key) {
      return detail(
        401,
        "needs_authorization",
        "Neither authorization header nor xi-api-key received, please provide one.",
      );
    }
    if (key !== apiKey) {
      return detail(401, "invalid_api_key", "Invalid API key");
    }
    const match = /^\/v1\/text-to-speech\/([^/]+)(\/stream)?$/.exec(request.path);
    if (match && request.method === "POST") {
      return textToSpeech(request, decodeURIComponent(match[1] ?? ""), match[2] !== undefined);
    }
    if (request.path === "/v1/voices" && request.method === "GET") {
      return json(200, { voices: voices.map((voice) => ({ ...voice, category: "premade", labels: {} })) });
    }
    return json(404, { detail: "Not Found" });
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
    syntheses,
    voices,
    setAudio: (audio) => {
      customAudio = audio;
    },
    failNext: (failure, times = 1) => failures.push(failure, times),
  };
}
