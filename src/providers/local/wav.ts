/**
 * RIFF/WAVE encoding for the embedded score: a header written once up front (the frame count is
 * known before rendering starts, so the file can be streamed block by block) and interleaved PCM
 * blocks. The reader exists for tests and tooling; it understands what the writer produces plus
 * the common variants (extensible headers, unknown chunks).
 */

export type WavSampleFormat = "pcm16" | "pcm24" | "float32";

export interface WavFormat {
  sampleRate: number;
  channels: number;
  sampleFormat: WavSampleFormat;
}

const BYTES: Record<WavSampleFormat, number> = { pcm16: 2, pcm24: 3, float32: 4 };
const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

export function bytesPerFrame(format: WavFormat): number {
  return BYTES[format.sampleFormat] * format.channels;
}

/** The header for `frames` frames of audio; the data chunk follows it directly. */
export function wavHeader(format: WavFormat, frames: number): Buffer {
  const isFloat = format.sampleFormat === "float32";
  const bytes = BYTES[format.sampleFormat];
  const dataBytes = frames * bytes * format.channels;
  // IEEE float files carry cbSize and a fact chunk, as the spec asks for non-PCM formats.
  const fmtSize = isFloat ? 18 : 16;
  const factSize = isFloat ? 12 : 0;
  const headerBytes = 12 + 8 + fmtSize + factSize + 8;
  if (headerBytes - 8 + dataBytes > 0xffffffff) throw new RangeError("audio too long for a RIFF file");
  const b = Buffer.alloc(headerBytes);
  // Buffer.write returns the bytes written while writeUInt*LE return the next offset; this
  // helper keeps one cursor for both.
  let o = 0;
  const tag = (id: string): void => {
    o += b.write(id, o, "ascii");
  };
  tag("RIFF");
  o = b.writeUInt32LE(headerBytes - 8 + dataBytes, o);
  tag("WAVE");
  tag("fmt ");
  o = b.writeUInt32LE(fmtSize, o);
  o = b.writeUInt16LE(isFloat ? FORMAT_FLOAT : FORMAT_PCM, o);
  o = b.writeUInt16LE(format.channels, o);
  o = b.writeUInt32LE(format.sampleRate, o);
  o = b.writeUInt32LE(format.sampleRate * bytes * format.channels, o);
  o = b.writeUInt16LE(bytes * format.channels, o);
  o = b.writeUInt16LE(bytes * 8, o);
  if (isFloat) {
    o = b.writeUInt16LE(0, o);
    tag("fact");
    o = b.writeUInt32LE(4, o);
    o = b.writeUInt32LE(frames, o);
  }
  tag("data");
  b.writeUInt32LE(dataBytes, o);
  return b;
}

/** Interleaves the first `frames` samples of each channel; PCM is clamped and rounded (no dither). */
export function encodeFrames(
  channels: readonly Float32Array[],
  frames: number,
  sampleFormat: WavSampleFormat,
): Buffer {
  const count = channels.length;
  const out = Buffer.alloc(frames * count * BYTES[sampleFormat]);
  if (sampleFormat === "float32") {
    for (let n = 0, o = 0; n < frames; n++) {
      for (let ch = 0; ch < count; ch++, o += 4) out.writeFloatLE(channels[ch][n], o);
    }
    return out;
  }
  // Byte stores by hand: this runs for every sample of every render, Buffer.writeIntLE is slower.
  const wide = sampleFormat === "pcm24";
  const scale = wide ? 8388607 : 32767;
  const min = wide ? -8388608 : -32768;
  for (let n = 0, o = 0; n < frames; n++) {
    for (let ch = 0; ch < count; ch++) {
      const v = Math.max(min, Math.min(scale, Math.round(channels[ch][n] * scale)));
      out[o++] = v & 0xff;
      out[o++] = (v >> 8) & 0xff;
      if (wide) out[o++] = (v >> 16) & 0xff;
    }
  }
  return out;
}

/** A whole file in memory: header plus data. */
export function encodeWav(channels: readonly Float32Array[], format: Omit<WavFormat, "channels">): Buffer {
  const frames = channels[0]?.length ?? 0;
  const full: WavFormat = { ...format, channels: channels.length };
  return Buffer.concat([wavHeader(full, frames), encodeFrames(channels, frames, format.sampleFormat)]);
}

export interface DecodedWav extends WavFormat {
  frames: number;
  /** One array per channel, samples in −1..1. */
  channelData: Float32Array[];
}

export function readWav(file: Buffer): DecodedWav {
  if (
    file.length < 12 ||
    file.toString("ascii", 0, 4) !== "RIFF" ||
    file.toString("ascii", 8, 12) !== "WAVE"
  ) {
    throw new Error("not a RIFF/WAVE file");
  }
  let format: WavFormat | null = null;
  let offset = 12;
  while (offset + 8 <= file.length) {
    const id = file.toString("ascii", offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === "fmt ") {
      let tag = file.readUInt16LE(body);
      const channels = file.readUInt16LE(body + 2);
      const sampleRate = file.readUInt32LE(body + 4);
      const bits = file.readUInt16LE(body + 14);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format tag in the first two bytes of its GUID.
      if (tag === FORMAT_EXTENSIBLE && size >= 40) tag = file.readUInt16LE(body + 24);
      format = { sampleRate, channels, sampleFormat: sampleFormatOf(tag, bits) };
    } else if (id === "data") {
      if (!format) throw new Error("WAV data chunk before fmt chunk");
      const bytes = BYTES[format.sampleFormat];
      const available = Math.min(size, file.length - body);
      const frames = Math.floor(available / (bytes * format.channels));
      const channelData = Array.from({ length: format.channels }, () => new Float32Array(frames));
      let o = body;
      for (let n = 0; n < frames; n++) {
        for (let ch = 0; ch < format.channels; ch++) {
          channelData[ch][n] =
            format.sampleFormat === "float32"
              ? file.readFloatLE(o)
              : format.sampleFormat === "pcm24"
                ? file.readIntLE(o, 3) / 8388608
                : file.readInt16LE(o) / 32768;
          o += bytes;
        }
      }
      return { ...format, frames, channelData };
    }
    offset = body + size + (size % 2);
  }
  throw new Error("WAV file has no data chunk");
}

function sampleFormatOf(tag: number, bits: number): WavSampleFormat {
  if (tag === FORMAT_FLOAT && bits === 32) return "float32";
  if (tag === FORMAT_PCM && bits === 16) return "pcm16";
  if (tag === FORMAT_PCM && bits === 24) return "pcm24";
  throw new Error(`unsupported WAV encoding: format tag ${tag}, ${bits} bits`);
}
