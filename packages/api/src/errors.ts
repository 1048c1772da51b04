/**
 * The closed set of errors a service may raise on purpose. Each maps to one HTTP status in one
 * place (the procedure base); anything else is an unexpected failure, logged and answered generically.
 */
export const SERVICE_ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  /** A spend cap (the user's or the box's monthly budget) is reached. */
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  /** A box answered something the platform refuses to use (redirect, oversize, not the expected JSON). */
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ServiceErrorCode = keyof typeof SERVICE_ERROR_STATUS;

/**
 * Every code an HTTP route answers with, oRPC and Hono alike: the services' set and the generic
 * failure. The model gateway (`/box/llm`) alone answers in the Anthropic API's error shape instead.
 */
export const API_ERROR_STATUS = { ...SERVICE_ERROR_STATUS, INTERNAL_SERVER_ERROR: 500 } as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** The one error body of the API (what oRPC answers on /rpc and /box, less its `defined` and `data`). */
export interface ApiErrorBody {
  code: ApiErrorCode;
  status: (typeof API_ERROR_STATUS)[ApiErrorCode];
  message: string;
}

export const apiErrorBody = (code: ApiErrorCode, message: string): ApiErrorBody => ({
  code,
  status: API_ERROR_STATUS[code],
  message,
});

export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === "string" && Object.hasOwn(API_ERROR_STATUS, code);
}

/** The code of the set that answers with `status`: an exact match, else the nearest generic one. */
export function apiErrorCodeForStatus(status: number): ApiErrorCode {
  const exact = (Object.keys(API_ERROR_STATUS) as ApiErrorCode[]).find(
    (code) => API_ERROR_STATUS[code] === status,
  );
  return exact ?? (status >= 400 && status < 500 ? "BAD_REQUEST" : "INTERNAL_SERVER_ERROR");
}

export class ServiceError extends Error {
  override name = "ServiceError";
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string) =>
  new ServiceError("NOT_FOUND", `${what} '${id}' was not found`);

/** Postgres unique_violation, for turning a race into a clean 409. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const candidate = current as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (candidate.code === "23505") {
      return constraint === undefined || candidate.constraint === constraint;
    }
    current = candidate.cause;
  }
  return false;
}
