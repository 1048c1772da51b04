import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { cache } from "react";
import { boxPagePath, collectBoxPages } from "./api-client";
import { ApiError, readApiError } from "./api-error";
import type { Box } from "./box";
import { getServerUrl } from "./server-env";

export interface SessionUser {
  id: string;
  name: string;
  email: string;
}

export interface Session {
  user: SessionUser;
}

/** Headers for a call the dashboard server makes to the API on the browser's behalf. */
async function onBehalfOfBrowser(): Promise<Headers> {
  const incoming = await headers();
  const forwarded = new Headers({ accept: "application/json" });
  for (const name of ["cookie", "user-agent", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"]) {
    const value = incoming.get(name);
    if (value) {
      forwarded.set(name, value);
    }
  }
  return forwarded;
}

async function callApiServer(path: string): Promise<Response> {
  const forwarded = await onBehalfOfBrowser();
  try {
    return await fetch(`${getServerUrl()}${path}`, { headers: forwarded, cache: "no-store" });
  } catch {
    throw new ApiError({ status: 502, code: "BAD_GATEWAY", message: "The API server did not answer." });
  }
}

/** The signed-in user, or null. Deduplicated per request, so a layout and a page can both ask. */
export const getSession = cache(async (): Promise<Session | null> => {
  const incoming = await headers();
  if (!incoming.get("cookie")) {
    return null;
  }
  const response = await callApiServer("/api/auth/get-session");
  if (!response.ok) {
    throw await readApiError(response);
  }
  const body = (await response.json()) as { user?: SessionUser } | null;
  return body?.user ? { user: body.user } : null;
});

export function signInPath(returnTo: string): string {
  return returnTo === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(returnTo)}`;
}

export async function requireSession(returnTo: string): Promise<Session> {
  const session = await getSession();
  if (!session) {
    redirect(signInPath(returnTo));
  }
  return session;
}

async function fetchFromApi<T>(path: string, returnTo: string): Promise<T> {
  const response = await callApiServer(path);
  if (response.status === 401) {
    redirect(signInPath(returnTo));
  }
  if (!response.ok) {
    throw await readApiError(response);
  }
  return (await response.json()) as T;
}

export function fetchBoxes(): Promise<Box[]> {
  return collectBoxPages((before, limit) => fetchFromApi<Box[]>(boxPagePath(before, limit), "/"));
}

/** The box, or null when it does not exist or belongs to someone else (the API answers 404 for both). */
export const fetchBox = cache(async (id: string): Promise<Box | null> => {
  const returnTo = `/boxes/${encodeURIComponent(id)}`;
  try {
    return await fetchFromApi<Box>(`/rpc/box/${encodeURIComponent(id)}`, returnTo);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return null;
    }
    throw error;
  }
});
