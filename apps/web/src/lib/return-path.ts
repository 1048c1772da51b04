// Any origin works: only whether the resolved URL keeps it matters, never which one it is.
const PROBE_ORIGIN = "https://return-path.invalid";

/**
 * The path to go back to after signing in, or "/" when the value could leave the site.
 * Browsers repair what they parse (tabs and newlines vanish, `\` becomes `/`), so `/\t/evil.com`
 * would become `//evil.com`; anything with a control character or a backslash is refused outright,
 * and what remains must resolve, against any origin, to that same origin.
 */
export function safeReturnPath(value: string | string[] | undefined): string {
  const path = Array.isArray(value) ? value[0] : value;
  if (!path?.startsWith("/") || path.startsWith("//") || path.length > 2048) {
    return "/";
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse.
  if (/[\u0000-\u001f\u007f\\]/.test(path)) {
    return "/";
  }
  let resolved: URL;
  try {
    resolved = new URL(path, PROBE_ORIGIN);
  } catch {
    return "/";
  }
  if (resolved.origin !== PROBE_ORIGIN) {
    return "/";
  }
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
