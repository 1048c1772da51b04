import fs from "node:fs";

/** Bytes waiting for the disk beyond which new lines are dropped (a service printing faster than the disk writes). */
const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * A service's log file with a byte cap: past `maxBytes` it rotates to `<file>.1` (replacing the previous
 * one) and starts over, so a service never holds more than twice the cap on disk. Writes are queued on
 * one stream; when the disk falls behind, lines are dropped and a note says how much.
 */
export class BoundedLogFile {
  readonly file: string;
  private readonly maxBytes: number;
  private stream: fs.WriteStream | null = null;
  private size = 0;
  private dropped = 0;

  constructor(file: string, maxBytes: number) {
    this.file = file;
    this.maxBytes = Math.max(1024, maxBytes);
  }

  write(text: string): void {
    const bytes = Buffer.byteLength(text);
    const stream = this.open();
    if (!stream) {
      return;
    }
    if (stream.writableLength > MAX_PENDING_BYTES) {
      this.dropped += bytes;
      return;
    }
    let line = text;
    if (this.dropped > 0) {
      line = `[sprites-local: ${this.dropped} bytes of output dropped: the log could not keep up]\n${text}`;
      this.dropped = 0;
    }
    const length = Buffer.byteLength(line);
    if (this.size + length > this.maxBytes && this.size > 0) {
      this.rotate();
      this.write(line);
      return;
    }
    // A single line larger than the cap keeps only its end.
    const kept = length > this.maxBytes ? Buffer.from(line).subarray(length - this.maxBytes) : line;
    this.size += typeof kept === "string" ? length : kept.length;
    stream.write(kept);
  }

  close(): void {
    this.stream?.end();
    this.stream = null;
  }

  private open(): fs.WriteStream | null {
    if (this.stream) {
      return this.stream;
    }
    try {
      this.size = fs.statSync(this.file).size;
    } catch {
      this.size = 0;
    }
    const stream = fs.createWriteStream(this.file, { flags: "a", mode: 0o600 });
    stream.on("error", () => {
      // Losing a log line on disk is not worth failing the service over; reopen on the next line.
      if (this.stream === stream) {
        this.stream = null;
      }
    });
    this.stream = stream;
    return stream;
  }

  private rotate(): void {
    // Lines already queued on the old stream land in the rotated file, which is where they belong.
    this.stream?.end();
    this.stream = null;
    try {
      fs.renameSync(this.file, `${this.file}.1`);
    } catch {
      // Nothing to rotate (the file was removed).
    }
    this.size = 0;
  }
}
