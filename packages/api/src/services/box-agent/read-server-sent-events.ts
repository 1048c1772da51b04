import { createParser, type EventSourceMessage } from "eventsource-parser";
import { BoxBadAnswerError, BoxUnreachableError } from "./box-agent-client";

/** One server-sent event as it came: its `id:`, `event:` and (joined) `data:` lines. */
export interface ServerSentEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

export interface ReadServerSentEventsOptions {
  /** Who answered what, for messages: "box 'Name' (box_…) GET /runs/run_…/events". */
  source: string;
  /** The largest event accepted; a bigger one (or that many bytes with no event ending) ends the stream. */
  maxEventBytes: number;
  /** No bytes at all for this long (not even a keep-alive comment) ends the stream as dropped. */
  idleTimeoutMs: number;
  /** The request's own signal: once aborted, its reason is what the reader throws. */
  signal?: AbortSignal;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  { source, idleTimeoutMs, signal }: ReadServerSentEventsOptions,
): Promise<Uint8Array | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BoxUnreachableError(
            `${source} sent nothing for ${Math.round(idleTimeoutMs / 1000)} s (not even a keep-alive); the stream is taken as dropped`,
          ),
        ),
      idleTimeoutMs,
    );
  });
  try {
    const read = await Promise.race([reader.read(), idle]);
    return read.done ? undefined : read.value;
  } catch (err) {
    if (signal?.aborted) {
      throw signal.reason;
    }
    if (err instanceof BoxUnreachableError) {
      throw err;
    }
    throw new BoxUnreachableError(`${source} broke off its event stream: ${messageOf(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The events of a `text/event-stream` body, parsed by eventsource-parser, read from a box that may be
 * hostile: memory stays bounded (an event over `maxEventBytes`, or that much buffered without an
 * event ending, is refused; at most one network chunk more is ever held), and a silent stream is
 * dropped after `idleTimeoutMs`. Comments (keep-alives) and `retry:` fields are read and ignored.
 * The body is cancelled whenever the caller stops early or something is refused.
 */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  options: ReadServerSentEventsOptions,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const { source, maxEventBytes } = options;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const ready: EventSourceMessage[] = [];
  let overflowed = false;
  const parser = createParser({
    onEvent: (message) => ready.push(message),
    // Counted in characters, which are never more than bytes: the byte check on each event is below.
    maxBufferSize: maxEventBytes,
    onError: (error) => {
      if (error.type === "max-buffer-size-exceeded") {
        overflowed = true;
      }
    },
  });
  const tooLarge = () =>
    new BoxBadAnswerError(
      `${source} sent an event larger than ${maxEventBytes} bytes; the stream was cut off and refused`,
    );
  let endsWithCr = false;
  try {
    while (true) {
      const chunk = await readWithin(reader, options);
      const text = chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
      parser.feed(text);
      if (text !== "") {
        endsWithCr = text.endsWith("\r");
      }
      if (chunk === undefined && endsWithCr && !overflowed) {
        // The parser holds a final CR as maybe half of a CRLF; at the end it is a whole line end.
        parser.feed("\n");
      }
      for (const message of ready.splice(0)) {
        if (Buffer.byteLength(message.data) > maxEventBytes) {
          throw tooLarge();
        }
        yield { id: message.id, event: message.event, data: message.data };
      }
      if (overflowed) {
        throw tooLarge();
      }
      if (chunk === undefined) {
        return;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
