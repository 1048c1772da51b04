import { ORPCError } from "@orpc/client";

/** One problem with one input field, as oRPC reports it in `data.issues`; `path` joined with dots. */
export interface ApiIssue {
  path: string;
  message: string;
}

/** An error answer from the API server: oRPC `{code, status, message, data?}` or better-auth `{code, message}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: ApiIssue[];

  constructor(options: { status: number; code: string; message: string; issues?: ApiIssue[] }) {
    super(options.message);
    this.name = "ApiError";
    this.status = options.status;
    this.code = options.code;
    this.issues = options.issues ?? [];
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Validation errors carry their per-field issues in `data.issues`; they say more than "Input validation failed". */
function readIssues(data: unknown): ApiIssue[] {
  if (!isRecord(data) || !Array.isArray(data.issues)) {
    return [];
  }
  const issues: ApiIssue[] = [];
  for (const issue of data.issues) {
    if (!isRecord(issue) || typeof issue.message !== "string") {
      continue;
    }
    const path = Array.isArray(issue.path) ? issue.path.map(String).join(".") : "";
    issues.push({ path, message: issue.message });
  }
  return issues;
}

function describeIssues(issues: ApiIssue[]): string | null {
  const lines = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));
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
  const issues = readIssues(body.data);
  const message = (generic ? describeIssues(issues) : null) ?? serverMessage ?? fallback;
  return new ApiError({ status: response.status, code, message, issues });
}

/** An error of the typed client (`ORPCError`) in the same shape as one read off a raw response. */
export function asApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) {
    return error;
  }
  if (error instanceof ORPCError) {
    const issues = readIssues(error.data);
    const generic = !error.message || error.message === "Input validation failed";
    return new ApiError({
      status: error.status,
      code: error.code,
      message:
        (generic ? describeIssues(issues) : null) ??
        (error.message || `Request failed with status ${error.status}`),
      issues,
    });
  }
  return null;
}

export function errorMessage(error: unknown): string {
  const apiError = asApiError(error);
  if (apiError) {
    return apiError.message;
  }
  if (error instanceof TypeError) {
    return "The network request failed. Check your connection and try again.";
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The server's own words about one field (its first issue whose path starts with `field`), so a form
 * can show "cron expression '61 * * * *': minute must be 0–59" under the schedule input.
 */
export function fieldIssue(error: unknown, field: string): string | null {
  const apiError = asApiError(error);
  if (!apiError) {
    return null;
  }
  const issue = apiError.issues.find(
    (candidate) => candidate.path === field || candidate.path.startsWith(`${field}.`),
  );
  return issue?.message ?? null;
}

/** True when every issue of a validation error belongs to one of `fields`, so the form shows them all already. */
export function issuesAllShown(error: unknown, fields: readonly string[]): boolean {
  const apiError = asApiError(error);
  return (
    apiError !== null &&
    apiError.issues.length > 0 &&
    apiError.issues.every((issue) =>
      fields.some((field) => issue.path === field || issue.path.startsWith(`${field}.`)),
    )
  );
}
