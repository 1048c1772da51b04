/**
 * How `exec` runs a script: `bash -lc PRELUDE sprites-exec <script> <marker> <interval>`.
 *
 * - Environment variables travel on stdin (a NUL-terminated block of `export` lines) rather than in
 *   the `env=` query parameters: those replace the sprite's whole environment (PATH included), and
 *   URLs end up in logs, while some of these values are secrets.
 * - The SDK drops a socket that carried nothing for 45 s, so a background loop prints a marker line
 *   on stderr every few seconds; the caller strips it from the output.
 * - The script runs in a child bash, so the loop is always stopped however the script ends.
 */
export const EXEC_PRELUDE = [
  "IFS= read -r -d '' __sprites_env || true",
  'eval "$__sprites_env"',
  "unset __sprites_env",
  '__sprites_marker="$2"',
  '( while sleep "$3" </dev/null >/dev/null 2>&1; do printf "%s\\n" "$__sprites_marker" >&2 || exit 0; done ) &',
  "__sprites_heartbeat=$!",
  'bash -c "$1"',
  "__sprites_rc=$?",
  'kill "$__sprites_heartbeat" 2>/dev/null',
  'exit "$__sprites_rc"',
].join("\n");

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The stdin block that sets `env` inside the prelude. */
export function envBlock(env: Record<string, string>): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_KEY.test(key)) {
      throw new TypeError(`environment variable name '${key}' is not valid in a shell`);
    }
    if (value.includes("\0")) {
      throw new TypeError(`environment variable '${key}' contains a NUL byte`);
    }
    lines.push(`export ${key}=${shellQuote(value)}`);
  }
  return `${lines.join("\n")}\0`;
}

export function stripMarker(output: string, marker: string): string {
  return output.replaceAll(`${marker}\n`, "");
}
