/**
 * The closed set of API error codes sprites-local answers with; their HTTP statuses and body shapes
 * are in `http/errors.ts`.
 */
export type ApiErrorCode =
  | "unauthorized"
  | "not_found"
  | "already_exists"
  | "conflict"
  | "invalid_request"
  | "bad_gateway"
  | "internal_error";

export class ApiError extends Error {
  readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = "ApiError";
    this.code = code;
  }
}

const FS_ERROR_CODES = [
  "ENOENT",
  "EACCES",
  "EPERM",
  "EROFS",
  "EEXIST",
  "ENOTEMPTY",
  "EISDIR",
  "ENOTDIR",
  "EINVAL",
  "ELOOP",
  /** A file larger than the API serves (fs/read), or past the sprite's largest-file limit. */
  "EFBIG",
  /** The sprite is at its disk quota. */
  "ENOSPC",
  "EIO",
] as const;

export type FsErrorCode = (typeof FS_ERROR_CODES)[number];

export function isFsErrorCode(value: unknown): value is FsErrorCode {
  return typeof value === "string" && (FS_ERROR_CODES as readonly string[]).includes(value);
}

/** A filesystem API error: an errno-style code and the path it concerns. */
export class FsError extends Error {
  readonly code: FsErrorCode;
  readonly path: string;

  constructor(code: FsErrorCode, message: string, path: string) {
    super(message);
    this.name = "FsError";
    this.code = code;
    this.path = path;
  }
}
