import { APIError, FilesystemError } from "@fly/sprites";

/** The closed set of failure kinds callers branch on. */
export type SpritesErrorCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "invalid_request"
  | "rate_limited"
  | "unavailable"
  | "network"
  | "timeout"
  | "filesystem"
  | "exec_interrupted"
  | "operation_failed"
  | "unknown";

const RETRYABLE: ReadonlySet<SpritesErrorCode> = new Set([
  "rate_limited",
  "unavailable",
  "network",
  "timeout",
]);

export interface SpritesErrorOptions {
  status?: number;
  retryAfterMs?: number;
  fsCode?: string;
  details?: { stdout?: string; stderr?: string };
  cause?: unknown;
  retryable?: boolean;
}

export class SpritesError extends Error {
  readonly code: SpritesErrorCode;
  /** HTTP status of the failed request, when there was one. */
  readonly status: number | undefined;
  /** Whether repeating the same call may succeed (network trouble, 5xx, 429). */
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  /** ENOENT, EACCES, … for filesystem failures. */
  readonly fsCode: string | undefined;
  /** Output gathered before a command was cut off (timeouts). */
  readonly details: { stdout?: string; stderr?: string } | undefined;

  constructor(code: SpritesErrorCode, message: string, options: SpritesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SpritesError";
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable ?? RETRYABLE.has(code);
    this.retryAfterMs = options.retryAfterMs;
    this.fsCode = options.fsCode;
    this.details = options.details;
  }
}

export function codeForStatus(status: number): SpritesErrorCode {
  if (status === 401) {
    return "unauthorized";
  }
  if (status === 403) {
    return "forbidden";
  }
  if (status === 404) {
    return "not_found";
  }
  if (status === 409) {
    return "conflict";
  }
  if (status === 429) {
    return "rate_limited";
  }
  if (status >= 500) {
    return "unavailable";
  }
  if (status >= 400) {
    return "invalid_request";
  }
  return "unknown";
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      return code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Turns whatever the SDK (or fetch) threw into a SpritesError that says what was being done. */
export function toSpritesError(error: unknown, operation: string): SpritesError {
  if (error instanceof SpritesError) {
    return error;
  }
  if (error instanceof APIError) {
    const status = error.statusCode ?? 0;
    const retryAfter = error.getRetryAfterSeconds();
    const suffix = [status ? `HTTP ${status}` : null, error.errorCode].filter(Boolean).join(", ");
    return new SpritesError(
      codeForStatus(status),
      `${operation} failed: ${error.message}${suffix ? ` (${suffix})` : ""}`,
      {
        status: status || undefined,
        retryAfterMs: retryAfter === undefined ? undefined : retryAfter * 1000,
        cause: error,
      },
    );
  }
  if (error instanceof FilesystemError) {
    const code: SpritesErrorCode =
      error.code === "ENOENT"
        ? "not_found"
        : error.code === "EACCES" || error.code === "EPERM"
          ? "forbidden"
          : "filesystem";
    return new SpritesError(code, `${operation} failed: ${error.message} (${error.code})`, {
      fsCode: error.code,
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError" || name === "AbortError") {
    return new SpritesError("timeout", `${operation} timed out: ${message}`, { cause: error });
  }
  // Several SDK calls throw plain errors that carry the status only in their message.
  const statusMatch = /\(status (\d{3})\)|Unexpected server response: (\d{3})/.exec(message);
  const statusText = statusMatch?.[1] ?? statusMatch?.[2];
  if (statusText) {
    const status = Number(statusText);
    return new SpritesError(codeForStatus(status), `${operation} failed: ${message}`, {
      status,
      cause: error,
    });
  }
  // Plain errors some SDK calls throw instead of APIError.
  const known: Array<[RegExp, SpritesErrorCode, number]> = [
    [/^(Service|Checkpoint) not found/, "not_found", 404],
    [/^Service (conflict|not running)/, "conflict", 409],
    [/^Invalid signal/, "invalid_request", 400],
  ];
  for (const [pattern, knownCode, status] of known) {
    if (pattern.test(message)) {
      return new SpritesError(knownCode, `${operation} failed: ${message}`, { status, cause: error });
    }
  }
  const code = causeCode(error);
  if (
    (code && NETWORK_CODES.has(code)) ||
    message.startsWith("Network error") ||
    message.includes("fetch failed") ||
    message.startsWith("WebSocket error") ||
    message.startsWith("WebSocket closed before open") ||
    message.includes("socket hang up")
  ) {
    return new SpritesError("network", `${operation} failed: cannot reach the Sprites API (${message})`, {
      cause: error,
    });
  }
  return new SpritesError("unknown", `${operation} failed: ${message}`, { cause: error });
}
