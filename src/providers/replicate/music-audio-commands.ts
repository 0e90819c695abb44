import { fileUrl } from "../../media/ffmpeg-commands.js";

/**
 * Pure argv builders for joining MusicGen segments (no spawning here). Every input is local,
 * behind `-protocol_whitelist file` and a demuxer allowlist, like every house builder.
 */
const AUDIO_DEMUXERS = "wav,mp3,flac";

function input(file: string, before: string[] = []): string[] {
  return ["-protocol_whitelist", "file", "-format_whitelist", AUDIO_DEMUXERS, ...before, "-i", fileUrl(file)];
}

const HEAD = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"];
const s = (value: number) => value.toFixed(6).replace(/\.?0+$/, "") || "0";

/** The last `seconds` of a file (the tail a continuation is re-anchored on), as 16-bit WAV. */
export function audioTailArgs(inFile: string, outFile: string, seconds: number): string[] {
  return [
    ...HEAD,
    ...input(inFile, ["-sseof", `-${s(seconds)}`]),
    "-map",
    "0:a:0",
    "-c:a",
    "pcm_s16le",
    "-f",
    "wav",
    fileUrl(outFile),
  ];
}

/**
 * Joins `next` (a continuation whose first `skipSeconds` re-render the tail of `previous`) to
 * `previous` with a short equal-power crossfade: the result is previous + the new part of next.
 */
export function audioJoinArgs(options: {
  previous: string;
  next: string;
  skipSeconds: number;
  crossfadeSeconds: number;
  outFile: string;
}): string[] {
  const { previous, next, skipSeconds, crossfadeSeconds, outFile } = options;
  return [
    ...HEAD,
    ...input(previous),
    ...input(next, ["-ss", s(Math.max(0, skipSeconds - crossfadeSeconds))]),
    "-filter_complex",
    `[0:a]aformat=channel_layouts=stereo[a];[1:a]aformat=channel_layouts=stereo[b];[a][b]acrossfade=d=${s(crossfadeSeconds)}:c1=qsin:c2=qsin[out]`,
    "-map",
    "[out]",
    "-c:a",
    "pcm_s16le",
    "-f",
    "wav",
    fileUrl(outFile),
  ];
}

/**
 * The delivered score: resampled to `sampleRate` stereo, exactly `seconds` long (padded or cut
 * to the sample), a click-free start and a real fade-out ending.
 */
export function audioFinishArgs(options: {
  inFile: string;
  outFile: string;
  seconds: number;
  sampleRate: number;
  fadeOutSeconds?: number;
}): string[] {
  const { inFile, outFile, seconds, sampleRate } = options;
  const samples = Math.round(seconds * sampleRate);
  const fade = Math.min(options.fadeOutSeconds ?? 3, seconds / 3);
  const filter = [
    `aresample=${sampleRate}`,
    "aformat=sample_fmts=s16:channel_layouts=stereo",
    `apad=whole_len=${samples}`,
    `atrim=end_sample=${samples}`,
    "afade=t=in:d=0.05",
    `afade=t=out:st=${s(seconds - fade)}:d=${s(fade)}`,
  ].join(",");
  return [
    ...HEAD,
    ...input(inFile),
    "-map",
    "0:a:0",
    "-af",
    filter,
    "-ar",
    String(sampleRate),
    "-ac",
    "2",
    "-c:a",
    "pcm_s16le",
    "-f",
    "wav",
    fileUrl(outFile),
  ];
}
