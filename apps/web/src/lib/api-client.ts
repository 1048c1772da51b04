import { ApiError, asApiError, readApiError } from "./api-error";
import type { Box } from "./box";

/** Calls the API through the dashboard's same-origin proxy; a non-2xx answer throws an ApiError. */
export async function requestJson<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
  }
  const response = await fetch(path, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: "same-origin",
    cache: "no-store",
    signal: init.signal,
  });
  if (!response.ok) {
    throw await readApiError(response);
  }
  const text = await response.text();
  return (text ? JSON.parse(text) : null) as T;
}

export function isUnauthorized(error: unknown): boolean {
  return asApiError(error)?.status === 401;
}

/** A path segment, escaped: ids and env keys come from the user or the server, never trusted as paths. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/** The API pages the list; a user has at most 1,000 boxes, so the dashboard simply walks every page. */
export const BOX_PAGE_SIZE = 200;

export async function collectBoxPages(
  fetchPage: (before: string | undefined, limit: number) => Promise<Box[]>,
): Promise<Box[]> {
  const boxes: Box[] = [];
  for (;;) {
    const page = await fetchPage(boxes.at(-1)?.id, BOX_PAGE_SIZE);
    boxes.push(...page);
    if (page.length < BOX_PAGE_SIZE) {
      return boxes;
    }
  }
}

export function boxPagePath(before: string | undefined, limit: number): string {
  return `/rpc/box?limit=${limit}${before ? `&before=${encodeURIComponent(before)}` : ""}`;
}

export const boxesApi = {
  list: () => collectBoxPages((before, limit) => requestJson<Box[]>(boxPagePath(before, limit))),
  get: (id: string) => requestJson<Box>(`/rpc/box/${encodeURIComponent(id)}`),
  create: (input: { name: string; skills?: string[] }) =>
    requestJson<Box>("/rpc/box", { method: "POST", body: input }),
  redeploy: (id: string) => requestJson<Box>("/rpc/box/deploy", { method: "POST", body: { id } }),
  remove: (id: string) => requestJson<Box>(`/rpc/box/${encodeURIComponent(id)}`, { method: "DELETE" }),
};

export interface AuthUser {
  id: string;
  name: string;
  email: string;
}

export const authApi = {
  signUp: (input: { name: string; email: string; password: string }) =>
    requestJson<{ token: string | null; user: AuthUser }>("/api/auth/sign-up/email", {
      method: "POST",
      body: input,
    }),
  signIn: (input: { email: string; password: string }) =>
    requestJson<{ token: string; user: AuthUser }>("/api/auth/sign-in/email", {
      method: "POST",
      body: input,
    }),
  signOut: () => requestJson<unknown>("/api/auth/sign-out", { method: "POST", body: {} }),
};

/** Turns better-auth error codes into sentences that tell the user what to do. */
export function describeAuthError(error: unknown, minPasswordLength: number): string | null {
  if (!(error instanceof ApiError)) {
    return null;
  }
  if (error.status === 429) {
    return "Too many attempts. Wait a minute, then try again.";
  }
  switch (error.code) {
    case "INVALID_EMAIL_OR_PASSWORD":
    case "INVALID_PASSWORD":
      return "Wrong email or password.";
    case "USER_ALREADY_EXISTS":
    case "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL":
      return "An account with this email already exists. Sign in instead, or use another email.";
    case "PASSWORD_TOO_SHORT":
      return `The password is too short: use at least ${minPasswordLength} characters.`;
    case "PASSWORD_TOO_LONG":
      return "The password is too long.";
    case "INVALID_EMAIL":
      return "That email address does not look valid.";
    case "INVALID_ORIGIN":
    case "MISSING_OR_NULL_ORIGIN":
      return "The server does not trust this dashboard's address. Set PUBLIC_URL to the URL in your address bar.";
    default:
      return null;
  }
}
