import { deflateSync } from "node:zlib";

/**
 * Real, decodable media bytes for the fakes to serve. Code under test stores, measures and re-serves
 * what providers return, so a few bytes of "not really an image" would hide bugs in that path.
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** A solid-colour RGB PNG of the given size (compresses to a few KB even at 1024×1024). */
export function createPng(
  width: number,
  height: number,
  rgb: [number, number, number] = [107, 138, 253],
): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) {
    row[1 + x * 3] = rgb[0];
    row[2 + x * 3] = rgb[1];
    row[3 + x * 3] = rgb[2];
  }
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(raw)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Raw little-endian 16-bit PCM silence, as returned for `pcm_*` output formats. */
export function createPcm({ seconds, sampleRate }: { seconds: number; sampleRate: number }): Buffer {
  return Buffer.alloc(Math.round(seconds * sampleRate) * 2);
}

/** A mono 16-bit PCM WAV file (silence) of the given duration. */
export function createWav({
  seconds,
  sampleRate = 24_000,
}: {
  seconds: number;
  sampleRate?: number;
}): Buffer {
  const data = createPcm({ seconds, sampleRate });
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Sample-rate index and version bits for MPEG-1 (32–48 kHz) and MPEG-2 (16–24 kHz) Layer III. */
const MP3_SAMPLE_RATES: Record<number, { index: number; mpeg1: boolean }> = {
  44100: { index: 0, mpeg1: true },
  48000: { index: 1, mpeg1: true },
  32000: { index: 2, mpeg1: true },
  22050: { index: 0, mpeg1: false },
  24000: { index: 1, mpeg1: false },
  16000: { index: 2, mpeg1: false },
};
const MPEG1_BITRATES_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_BITRATES_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

/**
 * Layer III frames of digital silence: each frame is a valid header followed by zeroed side
 * information and main data, which decoders play as silence.
 */
export function createSilentMp3({
  seconds,
  sampleRate = 44_100,
  bitrateKbps = 128,
}: {
  seconds: number;
  sampleRate?: number;
  bitrateKbps?: number;
}): Buffer {
  const rate = MP3_SAMPLE_RATES[sampleRate];
  const bitrateIndex = (rate?.mpeg1 ? MPEG1_BITRATES_KBPS : MPEG2_BITRATES_KBPS).indexOf(bitrateKbps);
  if (!rate || bitrateIndex <= 0) {
    throw new Error(`createSilentMp3: unsupported ${sampleRate} Hz / ${bitrateKbps} kbps`);
  }
  const samplesPerFrame = rate.mpeg1 ? 1152 : 576;
  const frameLength = Math.floor(((samplesPerFrame / 8) * bitrateKbps * 1000) / sampleRate);
  const frame = Buffer.alloc(frameLength);
  frame[0] = 0xff;
  frame[1] = rate.mpeg1 ? 0xfb : 0xf3; // MPEG version, Layer III, no CRC
  frame[2] = (bitrateIndex << 4) | (rate.index << 2); // no padding, no private bit
  frame[3] = 0xc4; // mono, original
  const frames = Math.max(1, Math.ceil((seconds * sampleRate) / samplesPerFrame));
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}
