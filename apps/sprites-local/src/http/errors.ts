import http from "node:http";
import type { Duplex } from "node:stream";
import type { ApiError, ApiErrorCode, FsError, FsErrorCode } from "../domain/errors.js";

const API_ERROR_STATUS = {
  unauthorized: 401,
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  invalid_request: 400,
  bad_gateway: 502,
  internal_error: 500,
} as const satisfies Record<ApiErrorCode, number>;

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
  EFBIG: 413,
  ENOSPC: 507,
  EIO: 500,
} as const satisfies Record<FsErrorCode, number>;

export function apiErrorStatus(error: ApiError): (typeof API_ERROR_STATUS)[ApiErrorCode] {
  return API_ERROR_STATUS[error.code];
}

/** `{"error": code, "message": ...}`, the shape the SDK's `parseAPIError` reads. */
export function apiErrorBody(error: ApiError): { error: ApiErrorCode; message: string } {
  return { error: error.code, message: error.message };
}

export function fsErrorStatus(error: FsError): (typeof FS_ERROR_STATUS)[FsErrorCode] {
  return FS_ERROR_STATUS[error.code];
}

/**
 * Filesystem API errors use their own shape: `{"error": message, "code": "ENOENT", "path": ...}`;
 * `message` repeats `error` for clients that read the API error shape.
 */
export function fsErrorBody(error: FsError): {
  error: string;
  code: FsErrorCode;
  path: string;
  message: string;
} {
  return { error: error.message, code: error.code, path: error.path, message: error.message };
}

/** Answers a refused upgrade (WebSocket exec, a sprite URL's WebSocket) with the error as JSON, then closes. */
export function rejectUpgrade(socket: Duplex, error: ApiError): void {
  const status = apiErrorStatus(error);
  const body = JSON.stringify(apiErrorBody(error));
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Error"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
