/** The closed set of API error codes sprites-local answers with, and their HTTP statuses. */
const API_ERROR_STATUS = {
  unauthorized: 401,
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  invalid_request: 400,
  bad_gateway: 502,
  internal_error: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** Answered as `{"error": code, "message": ...}`, the shape the SDK's `parseAPIError` reads. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = "ApiError";
    this.code = code;
  }

  get status(): (typeof API_ERROR_STATUS)[ApiErrorCode] {
    return API_ERROR_STATUS[this.code];
  }

  toJSON(): { error: ApiErrorCode; message: string } {
    return { error: this.code, message: this.message };
  }
}

const FS_ERROR_STATUS = {
  ENOENT: 404,
  EACCES: 403,
  EPERM: 403,
  EROFS: 403,
  EEXIST: 409,
  ENOTEMPTY: 409,
  EISDIR: 400,
  ENOTDIR: 400,
  EINVAL: 400,
  ELOOP: 400,
  /** A file larger than the API serves (fs/read), or past the sprite's largest-file limit. */
  EFBIG: 413,
  /** The sprite is at its disk quota. */
  ENOSPC: 507,
  EIO: 500,
} as const;

export type FsErrorCode = keyof typeof FS_ERROR_STATUS;

export function isFsErrorCode(value: unknown): value is FsErrorCode {
  return typeof value === "string" && value in FS_ERROR_STATUS;
}

/** Filesystem API errors use their own shape: `{"error": message, "code": "ENOENT", "path": ...}`. */
export class FsError extends Error {
  readonly code: FsErrorCode;
  readonly path: string;

  constructor(code: FsErrorCode, message: string, path: string) {
    super(message);
    this.name = "FsError";
    this.code = code;
    this.path = path;
  }

  get status(): (typeof FS_ERROR_STATUS)[FsErrorCode] {
    return FS_ERROR_STATUS[this.code];
  }

  /** `message` repeats `error` for clients that read the API error shape. */
  toJSON(): { error: string; code: FsErrorCode; path: string; message: string } {
    return { error: this.message, code: this.code, path: this.path, message: this.message };
  }
}
