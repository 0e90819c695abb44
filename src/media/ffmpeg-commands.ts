/**
 * Pure FFmpeg/ffprobe argument builders: given a target, return an argv (no binary, no shell).
 * Nothing here touches the filesystem or spawns; `ffmpeg.runner.ts` runs what these return.
 *
 * Safety rules every builder follows (ABUSE 16–18, asserted again by the runner):
 * - each input is preceded by `-protocol_whitelist file` (or `file,pipe` for stdin), so a
 *   crafted file can never make FFmpeg open a network URL or a nested protocol;
 * - untrusted inputs also get `-format_whitelist`, so an HLS playlist or concat script is
 *   refused before it can open anything it lists;
 * - paths are passed as `file:` URLs so a name such as `concat:a|b` or `http:x` is only a name.
 */

/** One place for the house encoding: every clip must match it for concat-by-copy to work. */
export const HOUSE_VIDEO = Object.freeze({
  codec: "libx264",
  profile: "high",
  level: "4.0",
  pixFmt: "yuv420p",
  fps: 30,
  /** Fixed 2 s GOP, no scene-cut keyframes: every clip starts on a keyframe and cuts cleanly. */
  gop: 60,
  crf: 20,
  /**
   * Measured on the 2-core dev/CI machines, 120 frames 1920×1080 from raw yuv420p (CPU seconds):
   * superfast 2.7, veryfast 4.5, faster 8.7. `superfast` keeps a clip near real time with two
   * renders in parallel; at CRF 20 the camera moves over still photos stay clean.
   */
  preset: "superfast",
  /** 15360 = 512 ticks per frame at 30 fps: identical timescales let concat copy cleanly. */
  timescale: 15360,
  colour: "bt709",
});

export const HOUSE_AUDIO = Object.freeze({
  codec: "aac",
  bitrate: "192k",
  sampleRate: 48_000,
  channels: 2,
});

/** Loudness target of the final mix: EBU R128 streaming, −16 LUFS integrated, true peak ≤ −1 dBTP. */
export const LOUDNESS_TARGET = Object.freeze({
  integratedLufs: -16,
  /** Asked of loudnorm with a margin: AAC encoding can add a few tenths of a dB of overshoot. */
  truePeakDbtp: -1.5,
  /** The ceiling the delivered file must respect. */
  maxTruePeakDbtp: -1,
  lra: 11,
});

/**
 * Demuxers a user or provider file may be read with. Anything else (hls, concat, …) is refused
 * by FFmpeg itself before it opens a byte of what such a file points at.
 */
export const ALLOWED_DEMUXERS = Object.freeze([
  "mov",
  "mp4",
  "m4a",
  "3gp",
  "3g2",
  "mj2",
  "matroska",
  "webm",
  "wav",
  "mp3",
  "aac",
  "flac",
  "image2",
  "jpeg_pipe",
  "png_pipe",
  "webp_pipe",
]);

const FILE_ONLY = "file";
const FILE_AND_PIPE = "file,pipe";

type ArgValue = string | number | readonly string[];

/**
 * Builds an argv from a template: the literal text splits on whitespace, and each `${value}` is
 * exactly one argument (never split, so a path or filter with spaces stays whole); an array
 * value adds its items. A value glued to literal text would be ambiguous, so it throws.
 */
export function args(strings: TemplateStringsArray, ...values: ArgValue[]): string[] {
  const out: string[] = [];
  strings.forEach((literal, index) => {
    const afterValue = index > 0;
    const beforeValue = index < values.length;
    const glued =
      (afterValue && beforeValue && literal === "") ||
      (afterValue && /^\S/.test(literal)) ||
      (beforeValue && /\S$/.test(literal));
    if (glued) throw new Error(`argv template glues a value to "${literal}"`);
    out.push(...literal.split(/\s+/).filter(Boolean));
    if (beforeValue) {
      const value = values[index]!;
      if (typeof value === "object") out.push(...value);
      else out.push(String(value));
    }
  });
  return out;
}

/** A path as an FFmpeg URL that can only mean a local file. */
export function fileUrl(path: string): string {
  if (!path.startsWith("/")) throw new Error(`ffmpeg paths must be absolute: ${path}`);
  if (/[\n\r\0]/.test(path)) throw new Error("ffmpeg paths must not contain control characters");
  return `file:${path}`;
}

/** Common head of every ffmpeg argv: quiet banner, no keyboard, overwrite, machine progress. */
export function head(logLevel: "error" | "warning" | "info" = "warning"): string[] {
  return args`-hide_banner -nostdin -y -loglevel ${logLevel} -nostats -progress pipe:2`;
}

export function fileInput(path: string, formats?: readonly string[]): string[] {
  const allow = formats ? args`-format_whitelist ${formats.join(",")}` : [];
  return args`-protocol_whitelist ${FILE_ONLY} ${allow} -i ${fileUrl(path)}`;
}

export const seconds = (value: number): string => {
  if (!Number.isFinite(value) || value < 0) throw new Error(`invalid seconds: ${value}`);
  return value.toFixed(6).replace(/\.?0+$/, "") || "0";
};

export const even = (value: number, what: string): number => {
  if (!Number.isInteger(value) || value <= 0 || value % 2 !== 0) {
    throw new Error(`${what} must be a positive even integer, got ${value}`);
  }
  return value;
};

/** Colour tags for BT.709 limited range, as both input hints and output metadata. */
const COLOUR_TAGS = args`-color_primaries ${HOUSE_VIDEO.colour} -color_trc ${HOUSE_VIDEO.colour}
  -colorspace ${HOUSE_VIDEO.colour} -color_range tv`;

/** The house H.264 settings (output options), fps-aware so the GOP stays 2 s. */
export function houseVideoCodecArgs(fps: number = HOUSE_VIDEO.fps): string[] {
  const gop = Math.round(fps * 2);
  const { codec, preset, profile, level, pixFmt, crf, timescale } = HOUSE_VIDEO;
  return args`-c:v ${codec} -preset ${preset} -profile:v ${profile} -level:v ${level} -pix_fmt ${pixFmt}
    -crf ${crf} -g ${gop} -keyint_min ${gop} -sc_threshold 0 ${COLOUR_TAGS} -video_track_timescale ${timescale}`;
}

/** Which kind of raw frames the encoder reads from stdin. */
export type RawPixelFormat = "rgb24" | "yuv420p";

export interface EncodeRawFramesOptions {
  width: number;
  height: number;
  fps: number;
  frames: number;
  outFile: string;
  /** `yuv420p` (BT.709 limited range) skips FFmpeg's colour conversion; default `rgb24` (sRGB). */
  pixelFormat?: RawPixelFormat;
}

/**
 * Encodes exactly `frames` raw frames read from pipe:0 into one house-encoded MP4 clip.
 *
 * One encoder thread: scenes render side by side (RENDER_CONCURRENCY), each with its own sampler
 * thread, so the cores are shared out already, and x264's frame threads then only add work
 * (measured with `npm run bench -- render-cpu`, two 1080p clips at once: 25 → 21.5 CPU-ms a frame
 * in the encoders, most of it system time). A clip rendering alone is not slowed: its photos'
 * decoding and sampling set the pace (a lone 4 s clip took 3.0–3.4 s either way).
 */
export function encodeRawFramesArgs(options: EncodeRawFramesOptions): string[] {
  const { fps, frames, outFile } = options;
  const width = even(options.width, "width");
  const height = even(options.height, "height");
  if (!Number.isInteger(frames) || frames <= 0)
    throw new Error(`frames must be a positive integer: ${frames}`);
  const pixelFormat = options.pixelFormat ?? "rgb24";
  const inputTags = pixelFormat === "yuv420p" ? COLOUR_TAGS : [];
  const filter =
    pixelFormat === "rgb24"
      ? args`-vf ${`scale=out_color_matrix=${HOUSE_VIDEO.colour}:out_range=tv,format=yuv420p`}`
      : [];
  return args`${head()} -f rawvideo -pix_fmt ${pixelFormat} -s ${`${width}x${height}`} -framerate ${fps} ${inputTags}
    -protocol_whitelist ${FILE_AND_PIPE} -i pipe:0 -map 0:v:0 ${filter} -frames:v ${frames} -an
    ${houseVideoCodecArgs(fps)} -threads 1 -f mp4 ${fileUrl(outFile)}`;
}

/** The concat demuxer script for `clipFiles` (our own absolute paths, hence `-safe 0`). */
export function concatListContent(clipFiles: readonly string[]): string {
  const lines = ["ffconcat version 1.0"];
  for (const file of clipFiles) {
    fileUrl(file); // validates: absolute, no control characters
    lines.push(`file '${file.replaceAll("'", "'\\''")}'`);
  }
  return `${lines.join("\n")}\n`;
}

const CONCAT_DEMUXERS = ["concat", "mov", "mp4"] as const;

function concatInput(listFile: string): string[] {
  return args`-f concat -safe 0 ${fileInput(listFile, CONCAT_DEMUXERS)}`;
}

/** Joins house-encoded clips without re-encoding (they must share every encoding parameter). */
export function concatCopyArgs(listFile: string, outFile: string): string[] {
  return args`${head()} ${concatInput(listFile)} -map 0:v:0 -c copy -an
    -video_track_timescale ${HOUSE_VIDEO.timescale} -f mp4 ${fileUrl(outFile)}`;
}

/** The same join re-encoded to the house settings (the slow path, kept for the benchmark). */
export function concatReencodeArgs(
  listFile: string,
  outFile: string,
  fps: number = HOUSE_VIDEO.fps,
): string[] {
  return args`${head()} ${concatInput(listFile)} -map 0:v:0 -an ${houseVideoCodecArgs(fps)} -f mp4 ${fileUrl(outFile)}`;
}

export interface ScoreShaping {
  /** Exact length of the mix; the score is trimmed or padded with silence to it. */
  durationSeconds: number;
  fadeInSeconds: number;
  fadeOutSeconds: number;
  /**
   * For a score too peaky for a plain gain (see limiterGainFor): this gain, then a 4×
   * oversampled (≈ true-peak) limiter, before loudnorm measures again.
   */
  limiterGainDb?: number;
  /** loudnorm's true-peak target; default LOUDNESS_TARGET.truePeakDbtp (lowered on a retry). */
  truePeakDbtp?: number;
}

/** The pre-limiter's ceiling sits this far below the peak target: room for loudnorm's gain. */
export const LIMITER_HEADROOM_DB = 1.5;

/**
 * loudnorm's linear mode needs measured true peak + gain ≤ the peak target; otherwise it falls
 * back to a dynamic mode that misses the integrated target (−20.5 instead of −16 on a score of
 * drum hits in our tests) and lets peaks through. For such a score this returns the gain to put
 * ahead of the limiter: the loudness shortfall measured at `currentGainDb` (null: no limiter
 * yet) plus 1 dB, so the limited score ends up a little loud and loudnorm's final gain is a
 * cut, which always fits under the peak target. Null when a plain gain already fits.
 */
export function limiterGainFor(
  measured: Pick<LoudnormStats, "input_i" | "input_tp">,
  currentGainDb: number | null = null,
  truePeakDbtp: number = LOUDNESS_TARGET.truePeakDbtp,
): number | null {
  const shortfall = LOUDNESS_TARGET.integratedLufs - Number(measured.input_i);
  if (Number(measured.input_tp) + shortfall <= truePeakDbtp) return null;
  return Math.round(((currentGainDb ?? 0) + shortfall + 1) * 100) / 100;
}

/**
 * The audio chain before loudnorm, identical in the measuring and the normalising pass, so the
 * second pass's linear gain lands the integrated loudness of exactly what is delivered.
 */
export function scoreShapingFilter(shaping: ScoreShaping): string {
  const { durationSeconds, fadeInSeconds, fadeOutSeconds } = shaping;
  if (!(durationSeconds > 0)) throw new Error(`durationSeconds must be positive: ${durationSeconds}`);
  const samples = Math.round(durationSeconds * HOUSE_AUDIO.sampleRate);
  const fadeIn = Math.min(Math.max(fadeInSeconds, 0), durationSeconds / 2);
  const fadeOut = Math.min(Math.max(fadeOutSeconds, 0), durationSeconds / 2);
  const parts = [
    `aresample=${HOUSE_AUDIO.sampleRate}`,
    "aformat=sample_fmts=fltp:channel_layouts=stereo",
    "apad",
    `atrim=end_sample=${samples}`,
    "asetpts=N/SR/TB",
  ];
  if (fadeIn > 0) parts.push(`afade=t=in:st=0:d=${seconds(fadeIn)}`);
  if (fadeOut > 0) parts.push(`afade=t=out:st=${seconds(durationSeconds - fadeOut)}:d=${seconds(fadeOut)}`);
  if (shaping.limiterGainDb !== undefined) {
    const gain = shaping.limiterGainDb;
    if (!Number.isFinite(gain) || Math.abs(gain) > 60) throw new Error(`implausible limiter gain: ${gain}`);
    const ceiling = peakTarget(shaping) - LIMITER_HEADROOM_DB;
    const limit = Math.max(0.0625, 10 ** (ceiling / 20)).toFixed(4);
    const rate = HOUSE_AUDIO.sampleRate;
    parts.push(
      `volume=${gain.toFixed(2)}dB`,
      `aresample=${rate * 4}`,
      `alimiter=limit=${limit}:attack=5:release=50:level=false`,
      `aresample=${rate}`,
    );
  }
  return parts.join(",");
}

function peakTarget(shaping: ScoreShaping | undefined): number {
  const value = shaping?.truePeakDbtp ?? LOUDNESS_TARGET.truePeakDbtp;
  if (!(value <= -0.5 && value >= -9)) throw new Error(`implausible true-peak target: ${value}`);
  return Math.round(value * 100) / 100;
}

/** First loudnorm pass: measures the shaped score and prints the statistics as JSON on stderr. */
export function loudnessMeasureArgs(audioFile: string, shaping?: ScoreShaping): string[] {
  const chain = shaping ? `${scoreShapingFilter(shaping)},` : "";
  const { integratedLufs, lra } = LOUDNESS_TARGET;
  const truePeakDbtp = peakTarget(shaping);
  const filter = `${chain}loudnorm=I=${integratedLufs}:TP=${truePeakDbtp}:LRA=${lra}:print_format=json`;
  return args`${head("info")} ${fileInput(audioFile, ALLOWED_DEMUXERS)} -map 0:a:0 -af ${filter} -f null -`;
}

/** What the first loudnorm pass printed (FFmpeg prints numbers as strings). */
export interface LoudnormStats {
  input_i: string;
  input_tp: string;
  input_lra: string;
  input_thresh: string;
  target_offset: string;
  output_i?: string;
  output_tp?: string;
  normalization_type?: string;
}

/** Pulls loudnorm's JSON block out of FFmpeg's stderr lines (the last one wins). */
export function parseLoudnormJson(stderrLines: readonly string[]): LoudnormStats {
  const text = stderrLines.join("\n");
  const marker = text.lastIndexOf("[Parsed_loudnorm");
  const start = text.indexOf("{", marker === -1 ? 0 : marker);
  const end = text.indexOf("}", start);
  if (start === -1 || end === -1) throw new Error("loudnorm printed no statistics");
  const stats = JSON.parse(text.slice(start, end + 1)) as Record<string, unknown>;
  for (const key of ["input_i", "input_tp", "input_lra", "input_thresh", "target_offset"]) {
    const value = Number(stats[key]);
    if (typeof stats[key] !== "string" || !Number.isFinite(value)) {
      throw new Error(`loudnorm statistic ${key} is missing or not finite (silent score?)`);
    }
  }
  return stats as unknown as LoudnormStats;
}

export interface MasterScoreArgsOptions extends ScoreShaping {
  audioFile: string;
  measured: LoudnormStats;
  /** The mastered score: AAC in an MP4 (.m4a) container. */
  outFile: string;
}

/**
 * Second loudnorm pass, encoding the master: score shaped and normalised with linear gain
 * (loudnorm falls back to its dynamic mode by itself when the gain would break the peak
 * ceiling), AAC 192k 48 kHz stereo, exact duration, moov atom first. Assembly later muxes this
 * stream by copy, so what is measured here is exactly what is delivered.
 */
export function masterScoreArgs(options: MasterScoreArgsOptions): string[] {
  const { measured, durationSeconds } = options;
  const { integratedLufs } = LOUDNESS_TARGET;
  const truePeakDbtp = peakTarget(options);
  const num = (value: string): string => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`measured loudness value is not a number: ${value}`);
    return String(parsed);
  };
  // linear mode needs the target LRA to cover the measured one; loudnorm's LRA is 1..20
  const lra = Math.min(20, Math.max(LOUDNESS_TARGET.lra, Math.ceil(Number(measured.input_lra) + 1)));
  const loudnorm = [
    `loudnorm=I=${integratedLufs}`,
    `TP=${truePeakDbtp}`,
    `LRA=${lra}`,
    `measured_I=${num(measured.input_i)}`,
    `measured_TP=${num(measured.input_tp)}`,
    `measured_LRA=${num(measured.input_lra)}`,
    `measured_thresh=${num(measured.input_thresh)}`,
    `offset=${num(measured.target_offset)}`,
    "linear=true",
    "print_format=json",
  ].join(":");
  const audio = `${scoreShapingFilter(options)},${loudnorm},aresample=${HOUSE_AUDIO.sampleRate}`;
  const { codec, bitrate, sampleRate, channels } = HOUSE_AUDIO;
  return args`${head("info")} ${fileInput(options.audioFile, ALLOWED_DEMUXERS)} -map 0:a:0 -af ${audio}
    -c:a ${codec} -b:a ${bitrate} -ar ${sampleRate} -ac ${channels} -t ${seconds(durationSeconds)}
    -movflags +faststart -f mp4 ${fileUrl(options.outFile)}`;
}

export interface MuxCopyOptions {
  /** Concat script of the house-encoded clips (see concatListContent). */
  listFile: string;
  /** The mastered score (masterScoreArgs' output). */
  audioFile: string;
  durationSeconds: number;
  outFile: string;
}

/**
 * Final assembly in one pass and without re-encoding anything: the clips joined through the
 * concat demuxer, the mastered audio added, both streams copied, exact duration, moov atom first.
 */
export function muxCopyArgs(options: MuxCopyOptions): string[] {
  return args`${head()} ${concatInput(options.listFile)} ${fileInput(options.audioFile, ALLOWED_DEMUXERS)}
    -map 0:v:0 -map 1:a:0 -c:v copy -c:a copy -t ${seconds(options.durationSeconds)}
    -video_track_timescale ${HOUSE_VIDEO.timescale} -movflags +faststart -f mp4 ${fileUrl(options.outFile)}`;
}

/** One JPEG frame at `atSeconds` (input seeking: fast, and exact since it decodes from a keyframe). */
export function posterArgs(videoFile: string, atSeconds: number, outFile: string): string[] {
  return args`${head()} -ss ${seconds(atSeconds)} ${fileInput(videoFile, ALLOWED_DEMUXERS)} -map 0:v:0 -frames:v 1
    -vf scale=out_range=pc,format=yuvj420p -q:v 2 -f image2 -update 1 ${fileUrl(outFile)}`;
}

export interface NormaliseClipOptions {
  inFile: string;
  outFile: string;
  width: number;
  height: number;
  seconds: number;
  fps?: number;
  /** `cover` crops to fill (default), `contain` letterboxes on black. */
  fit?: "cover" | "contain";
}

/**
 * The normalising filter chain: house frame rate, size (crop or letterbox), BT.709 limited
 * range, and the last frame held if the clip is short.
 */
export function normaliseFilter(options: Omit<NormaliseClipOptions, "inFile" | "outFile">): string {
  const width = even(options.width, "width");
  const height = even(options.height, "height");
  const fps = options.fps ?? HOUSE_VIDEO.fps;
  if (!(options.seconds > 0)) throw new Error(`seconds must be positive: ${options.seconds}`);
  const fit =
    options.fit === "contain"
      ? `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:black`
      : `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height}`;
  return [
    `fps=${fps}`,
    fit,
    "setsar=1",
    `scale=out_color_matrix=${HOUSE_VIDEO.colour}:out_range=tv`,
    "format=yuv420p",
    `tpad=stop_mode=clone:stop_duration=${seconds(options.seconds)}`,
  ].join(",");
}

/**
 * Re-encodes a foreign clip (e.g. an AI provider's 6 s 24 fps 1280×720 MP4) to the house
 * encoding at the given size and exact length: the last frame is held if the clip is short.
 */
export function normaliseClipArgs(options: NormaliseClipOptions): string[] {
  const fps = options.fps ?? HOUSE_VIDEO.fps;
  const filter = normaliseFilter(options);
  const frames = Math.round(options.seconds * fps);
  return args`${head()} ${fileInput(options.inFile, ALLOWED_DEMUXERS)} -map 0:v:0 -vf ${filter} -frames:v ${frames}
    -an ${houseVideoCodecArgs(fps)} -f mp4 ${fileUrl(options.outFile)}`;
}

/** ffprobe: container and streams as JSON, through the demuxer allowlist. */
export function probeArgs(file: string): string[] {
  return args`-hide_banner -loglevel error -protocol_whitelist ${FILE_ONLY}
    -format_whitelist ${ALLOWED_DEMUXERS.join(",")} -show_format -show_streams -of json ${fileUrl(file)}`;
}

/** `ffmpeg -version` / `-filters` / `-encoders` (no input is opened). */
export function capabilityArgs(kind: "version" | "filters" | "encoders"): string[] {
  return args`-hide_banner -protocol_whitelist ${FILE_ONLY} ${`-${kind}`}`;
}

/** Integrated loudness and true peak from ebur128's summary (the last one in the lines). */
export function parseEbur128Summary(stderrLines: readonly string[]): {
  integratedLufs: number;
  truePeakDbtp: number;
} {
  const text = stderrLines.join("\n");
  const at = text.lastIndexOf("Summary:");
  if (at === -1) throw new Error("ebur128 printed no summary");
  const summary = text.slice(at);
  const integrated = /\bI:\s+(-?[\d.]+|-inf) LUFS/.exec(summary)?.[1];
  const peak = /\bPeak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary)?.[1];
  if (integrated === undefined || peak === undefined)
    throw new Error("ebur128 summary lacks loudness or peak");
  const value = (text: string) => (text === "-inf" ? Number.NEGATIVE_INFINITY : Number(text));
  return { integratedLufs: value(integrated), truePeakDbtp: value(peak) };
}

/** Decodes a file and reports EBU R128 loudness and true peak (used to verify a mix). */
export function loudnessReportArgs(file: string): string[] {
  return args`${head("info")} ${fileInput(file, ALLOWED_DEMUXERS)} -map 0:a:0 -af ebur128=peak=true -f null -`;
}
