/** Token counts of one model request, as the API reports them. */
export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export const emptyUsage = (): ModelUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
});

/** Whether the API reported any token at all (a count_tokens or models call reports none). */
export const hasTokens = ({
  inputTokens,
  outputTokens,
  cacheReadTokens,
  cacheWriteTokens,
}: ModelUsage): boolean => inputTokens + outputTokens + cacheReadTokens + cacheWriteTokens > 0;

const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;

/** Fields a `usage` object carries; later reports (message_delta) overwrite earlier ones (message_start). */
export function applyUsage(usage: ModelUsage, reported: unknown): void {
  if (!reported || typeof reported !== "object") {
    return;
  }
  const fields = reported as Record<string, unknown>;
  usage.inputTokens = count(fields.input_tokens) ?? usage.inputTokens;
  usage.outputTokens = count(fields.output_tokens) ?? usage.outputTokens;
  usage.cacheReadTokens = count(fields.cache_read_input_tokens) ?? usage.cacheReadTokens;
  usage.cacheWriteTokens = count(fields.cache_creation_input_tokens) ?? usage.cacheWriteTokens;
}

/** Longest SSE line kept while looking for usage; a longer one (a huge text delta) cannot carry it. */
const MAX_LINE_CHARS = 1024 * 1024;
/** Largest JSON body parsed for its usage; the bytes are forwarded whatever their size. */
const MAX_JSON_BYTES = 8 * 1024 * 1024;

/**
 * Reads usage from a response as its chunks go by, without holding them: for SSE only the
 * `message_start` and `message_delta` data lines are parsed; a JSON body is kept (bounded) and
 * parsed at the end for its `usage` and, on an error status, its message.
 */
export class UsageMeter {
  readonly usage = emptyUsage();
  /** The upstream's own error message, for error responses. */
  errorMessage: string | undefined;
  private readonly decoder = new TextDecoder();
  private partialLine = "";
  private jsonParts: Buffer[] = [];
  private jsonBytes = 0;

  constructor(
    private readonly kind: "sse" | "json" | "other",
    private readonly status: number,
  ) {}

  push(chunk: Buffer): void {
    if (this.kind === "sse") {
      this.scanEvents(this.decoder.decode(chunk, { stream: true }));
    } else if (this.kind === "json" && this.jsonBytes + chunk.length <= MAX_JSON_BYTES) {
      this.jsonParts.push(chunk);
      this.jsonBytes += chunk.length;
    }
  }

  /** Called once the body ended (or was cut): parses what is left. */
  finish(): ModelUsage {
    if (this.kind === "sse") {
      this.scanEvents(`${this.decoder.decode()}\n`);
    } else if (this.kind === "json" && this.jsonParts.length > 0) {
      this.readJson(Buffer.concat(this.jsonParts).toString("utf8"));
      this.jsonParts = [];
    }
    return this.usage;
  }

  private scanEvents(text: string): void {
    let lines = `${this.partialLine}${text}`;
    let newline = lines.indexOf("\n");
    while (newline !== -1) {
      this.readLine(lines.slice(0, newline));
      lines = lines.slice(newline + 1);
      newline = lines.indexOf("\n");
    }
    this.partialLine = lines.length > MAX_LINE_CHARS ? "" : lines;
  }

  private readLine(line: string): void {
    if (!line.startsWith("data:")) {
      return;
    }
    const isStart = line.includes('"message_start"');
    if (!isStart && !line.includes('"message_delta"') && !line.includes('"error"')) {
      return;
    }
    let event: { type?: unknown; message?: { usage?: unknown }; usage?: unknown; error?: unknown };
    try {
      event = JSON.parse(line.slice(5));
    } catch {
      return;
    }
    if (event.type === "message_start") {
      applyUsage(this.usage, event.message?.usage);
    } else if (event.type === "message_delta") {
      applyUsage(this.usage, event.usage);
    } else if (event.type === "error") {
      this.errorMessage = errorMessageOf(event);
    }
  }

  private readJson(text: string): void {
    let body: { usage?: unknown; error?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      return;
    }
    applyUsage(this.usage, body?.usage);
    if (this.status >= 400) {
      this.errorMessage = errorMessageOf(body);
    }
  }
}

function errorMessageOf(body: { error?: unknown } | null | undefined): string | undefined {
  const error = body?.error as { type?: unknown; message?: unknown } | undefined;
  if (!error || typeof error !== "object") {
    return undefined;
  }
  const message = typeof error.message === "string" ? error.message : "";
  const type = typeof error.type === "string" ? error.type : "error";
  return `${type}: ${message}`.slice(0, 1000);
}
