/** An error answer from the API server: oRPC `{code, status, message, data?}` or better-auth `{code, message}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(options: { status: number; code: string; message: string }) {
    super(options.message);
    this.name = "ApiError";
    this.status = options.status;
    this.code = options.code;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Validation errors carry their per-field issues in `data.issues`; they say more than "Input validation failed". */
function describeIssues(data: unknown): string | null {
  if (!isRecord(data) || !Array.isArray(data.issues)) {
    return null;
  }
  const lines: string[] = [];
  for (const issue of data.issues) {
    if (!isRecord(issue) || typeof issue.message !== "string") {
      continue;
    }
    const path = Array.isArray(issue.path) ? issue.path.map(String).join(".") : "";
    lines.push(path ? `${path}: ${issue.message}` : issue.message);
  }
  return lines.length > 0 ? lines.join("; ") : null;
}

export async function readApiError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  const text = await response.text().catch(() => "");
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const fallback = response.statusText || `Request failed with status ${response.status}`;
  if (!isRecord(body)) {
    return new ApiError({
      status: response.status,
      code: `HTTP_${response.status}`,
      message: text.trim() || fallback,
    });
  }
  const code = typeof body.code === "string" ? body.code : `HTTP_${response.status}`;
  const serverMessage = typeof body.message === "string" && body.message ? body.message : null;
  // oRPC's stock text for validation errors says nothing useful; the issues do.
  const generic = serverMessage === null || serverMessage === "Input validation failed";
  const message = (generic ? describeIssues(body.data) : null) ?? serverMessage ?? fallback;
  return new ApiError({ status: response.status, code, message });
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message;
  }
  if (error instanceof TypeError) {
    return "The network request failed. Check your connection and try again.";
  }
  return error instanceof Error ? error.message : String(error);
}
