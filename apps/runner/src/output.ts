import { createLogger, type Logger } from "@vps-claude/logger";

const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const palette = [36, 35, 33, 32, 34, 96, 95];
const assigned = new Map<string, number>();
const TAG_WIDTH = 13;

function tag(source: string): string {
  let color = assigned.get(source);
  if (color === undefined) {
    color = palette[assigned.size % palette.length] ?? 36;
    assigned.set(source, color);
  }
  const label = source.padEnd(TAG_WIDTH);
  return useColor ? `\u001b[${color}m${label}\u001b[0m |` : `${label} |`;
}

/** One line of output attributed to `source` (runner, postgres, server, web, ...). */
export function print(source: string, line: string): void {
  process.stdout.write(`${tag(source)} ${line}\n`);
}

const LEVELS: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};
const QUIET_FIELDS = new Set(["level", "time", "msg", "service", "name", "pid", "hostname"]);

/**
 * Pino's JSON lines made readable: "warn  message key=value". Lines that are not pino JSON pass
 * through as they are.
 */
export function formatLogLine(line: string): string {
  if (!line.startsWith("{")) {
    return line;
  }
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry.level !== "number" || typeof entry.msg !== "string") {
    return line;
  }
  const level = LEVELS[entry.level] ?? String(entry.level);
  const fields: string[] = [];
  let stack = "";
  for (const [key, value] of Object.entries(entry)) {
    if (QUIET_FIELDS.has(key)) {
      continue;
    }
    if ((key === "err" || key === "error") && value && typeof value === "object" && "stack" in value) {
      stack = `\n${String((value as { stack: unknown }).stack)}`;
      continue;
    }
    fields.push(`${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  const label = level === "info" ? "" : `${level}: `;
  return `${label}${entry.msg}${fields.length > 0 ? ` ${fields.join(" ")}` : ""}${stack}`;
}

/** A logger for library code (packages/embedded) whose lines come out like every other runner line. */
export function createPrefixedLogger(source: string): Logger {
  return createLogger({
    name: source,
    destination: {
      write(chunk: string) {
        for (const line of chunk.split("\n")) {
          if (line.length > 0) {
            print(source, formatLogLine(line));
          }
        }
      },
    },
  });
}
