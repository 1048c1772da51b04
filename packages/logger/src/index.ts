import pino, { type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

/**
 * Paths whose values are never written to a log line. Secrets travel in headers, request bodies
 * and config objects; listing their names here keeps them out even when a whole object is logged.
 */
export const REDACTED_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "apiKey",
  "*.apiKey",
  "value",
  "*.value",
  "authorization",
  "*.authorization",
  "cookie",
  "*.cookie",
  "headers.authorization",
  "headers.cookie",
  'headers["x-box-secret"]',
  'headers["set-cookie"]',
  '*.headers["x-box-secret"]',
  "agentSecret",
  "*.agentSecret",
  "encryptionKey",
  "*.encryptionKey",
  "databaseUrl",
  "*.databaseUrl",
];

export interface CreateLoggerOptions {
  name: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger({ name, level, destination }: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    name,
    level: level ?? process.env.LOG_LEVEL ?? "info",
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  return destination ? pino(options, destination) : pino(options);
}
