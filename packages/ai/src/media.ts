import { ProviderResponseError } from "./errors";

export interface MediaFile {
  bytes: Buffer;
  mimeType: string;
  /** File extension without the dot, from the content itself when recognizable. */
  extension: string;
}

const EXTENSIONS: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "image/gif": "gif",
  "audio/mpeg": "mp3",
  "audio/wav": "wav",
  "audio/ogg": "ogg",
  "audio/flac": "flac",
  "audio/webm": "webm",
  "audio/mp4": "m4a",
};

const ALIASES: Record<string, string> = {
  "image/jpg": "image/jpeg",
  "audio/mp3": "audio/mpeg",
  "audio/x-wav": "audio/wav",
  "audio/wave": "audio/wav",
  "audio/vnd.wave": "audio/wav",
  "audio/x-flac": "audio/flac",
  "audio/x-m4a": "audio/mp4",
  "audio/m4a": "audio/mp4",
};

/** `audio/x-wav; codecs=1` → `audio/wav`. */
export function normalizeMimeType(mimeType: string): string {
  const bare = mimeType.split(";")[0]?.trim().toLowerCase() ?? "";
  return ALIASES[bare] ?? bare;
}

/** The type the bytes announce themselves as (magic numbers), for the formats we produce or accept. */
export function sniffMimeType(bytes: Buffer): string | undefined {
  const ascii = (start: number, end: number) => bytes.subarray(start, end).toString("latin1");
  if (bytes.length >= 8 && bytes[0] === 0x89 && ascii(1, 4) === "PNG") {
    return "image/png";
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "image/jpeg";
  }
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") {
    return "image/webp";
  }
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WAVE") {
    return "audio/wav";
  }
  if (ascii(0, 4) === "GIF8") {
    return "image/gif";
  }
  if (
    ascii(0, 3) === "ID3" ||
    (bytes.length >= 2 && bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)
  ) {
    return "audio/mpeg";
  }
  if (ascii(0, 4) === "OggS") {
    return "audio/ogg";
  }
  if (ascii(0, 4) === "fLaC") {
    return "audio/flac";
  }
  return undefined;
}

export function extensionFor(mimeType: string): string {
  return EXTENSIONS[normalizeMimeType(mimeType)] ?? "bin";
}

export function mediaFile(
  bytes: Buffer,
  announced: string | undefined,
  expected: "image" | "audio",
): MediaFile {
  const mimeType = sniffMimeType(bytes) ?? normalizeMimeType(announced ?? "");
  if (!mimeType.startsWith(`${expected}/`)) {
    throw new ProviderResponseError(
      `expected ${expected} content, got ${mimeType || "an unknown type"} (${bytes.length} bytes)`,
    );
  }
  return { bytes, mimeType, extension: extensionFor(mimeType) };
}

export interface DownloadOptions {
  maxBytes: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** Fetches a provider's output URL (fal's CDN, replicate.delivery), refusing oversized answers. */
export async function downloadMedia(
  url: string,
  expected: "image" | "audio",
  { maxBytes, signal, fetch: fetchImpl = fetch }: DownloadOptions,
): Promise<MediaFile> {
  if (!/^https?:\/\//i.test(url)) {
    throw new ProviderResponseError(`the provider returned a non-HTTP output URL '${url.slice(0, 60)}'`);
  }
  const response = await fetchImpl(url, { signal, redirect: "follow" });
  if (!response.ok || !response.body) {
    throw new ProviderResponseError(`downloading the output answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    throw new ProviderResponseError(`the output is ${declared} bytes, over the ${maxBytes}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      throw new ProviderResponseError(`the output is over the ${maxBytes}-byte limit`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return mediaFile(Buffer.concat(chunks), response.headers.get("content-type") ?? undefined, expected);
}

/** Seconds of audio in a PCM WAV file, when the header says; other formats answer undefined. */
export function wavDurationSeconds(bytes: Buffer): number | undefined {
  if (bytes.length < 44 || bytes.subarray(0, 4).toString("latin1") !== "RIFF") {
    return undefined;
  }
  const channels = bytes.readUInt16LE(22);
  const rate = bytes.readUInt32LE(24);
  const bits = bytes.readUInt16LE(34);
  const frame = channels * (bits / 8);
  return rate > 0 && frame > 0 ? (bytes.length - 44) / (rate * frame) : undefined;
}
