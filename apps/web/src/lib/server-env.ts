const DEFAULT_SERVER_URL = "http://127.0.0.1:33000";

/**
 * The API server the dashboard talks to. Read on every call rather than inlined at build time,
 * so one build can be started against any server.
 */
export function getServerUrl(): string {
  const raw = process.env.SERVER_URL?.trim() || DEFAULT_SERVER_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`SERVER_URL '${raw}' is not a valid URL (expected e.g. ${DEFAULT_SERVER_URL})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`SERVER_URL '${raw}' must use http or https`);
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}
