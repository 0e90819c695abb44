/**
 * The score's mastering and the final assembly.
 *
 * Mastering runs in the score job, in parallel with the scene renders: the score shaped
 * (trim/pad to the exact length, fades), normalised to −16 LUFS with a −1 dBTP ceiling in two
 * loudnorm passes, encoded once to AAC (.m4a), and the delivered AAC measured.
 *
 * Assembly, on the critical path after the last scene, only copies: clips joined and the
 * mastered audio muxed in one pass without re-encoding, moov atom first, a poster JPEG, and the
 * result probed.
 */
import { rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import {
  assertAllowedContainer,
  type MediaInfo,
  probeMedia,
  runFfmpeg,
  withTempDir,
} from "./ffmpeg.runner.js";
import {
  concatListContent,
  HOUSE_AUDIO,
  HOUSE_VIDEO,
  LOUDNESS_TARGET,
  type LoudnormStats,
  limiterGainFor,
  loudnessMeasureArgs,
  loudnessReportArgs,
  masterScoreArgs,
  muxCopyArgs,
  parseEbur128Summary,
  parseLoudnormJson,
  posterArgs,
  type ScoreShaping,
} from "./ffmpeg-commands.js";

interface Budgeted {
  ffmpeg: string;
  ffprobe: string;
  /** Wall-clock limit for the whole operation. */
  timeoutMs: number;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface MasterScoreOptions extends Budgeted {
  /** The composed score (WAV, any length); trimmed or padded with silence to `durationSeconds`. */
  scoreWav: string;
  /** The video's exact length. */
  durationSeconds: number;
  /** Audio fade-in/out, seconds. */
  fadeIn: number;
  fadeOut: number;
  /** Where the master goes: AAC in an .m4a, absolute path. */
  outFile: string;
  /** Fraction of the mastering done, 0..1. */
  onProgress?: (fraction: number) => void;
}

export interface MasteredScore {
  loudness: DeliveredLoudness;
  byteSize: number;
  durationSeconds: number;
}

export interface AssembleVideoOptions extends Budgeted {
  /** House-encoded MP4 clips, in order (absolute paths). */
  clipFiles: string[];
  /** The mastered score (masterScore's .m4a), muxed as is: it must already have the video's length. */
  scoreAudio: string;
  outFile: string;
  /** Where the poster frame goes; none is taken without it (a second cut that shares one). */
  posterFile?: string;
  /**
   * Probes already started, by absolute path (the caller's, e.g. each clip probed as its download
   * ends, or shared by the two cuts of one listing video); what is missing is probed and added.
   */
  probes?: Map<string, Promise<MediaInfo>>;
}

export interface AssembledVideo {
  durationSeconds: number;
  width: number;
  height: number;
  byteSize: number;
  frames: number;
}

/** The delivered (AAC-decoded) mix, measured with ebur128, and how it was reached. */
export interface DeliveredLoudness {
  integratedLufs: number;
  truePeakDbtp: number;
  /** "linear" (a plain gain), "limited" (gain into a limiter, then linear), or loudnorm's "dynamic". */
  normalization: "linear" | "limited" | "dynamic";
  /** The gain ahead of the limiter, when one was needed. */
  limiterGainDb: number | null;
}

type Run = (args: string[], extra?: { onStderrLine?: (line: string) => void }) => Promise<unknown>;

/** An ffmpeg and an ffprobe runner sharing one wall-clock budget. */
function withinBudget(options: Budgeted, what: string) {
  const { ffmpeg, ffprobe, signal, logger } = options;
  const deadline = Date.now() + options.timeoutMs;
  const remaining = () => {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new AppError("TIMEOUT", `${what} exceeded ${options.timeoutMs} ms`, { transient: true });
    return left;
  };
  const run: Run = (args, extra = {}) =>
    runFfmpeg(ffmpeg, args, { timeoutMs: remaining(), signal, logger, ...extra });
  const probe = (file: string) => probeMedia(ffprobe, file, { timeoutMs: remaining(), signal, logger });
  return { run, probe };
}

function assertAbsolute(files: readonly string[], what: string): void {
  for (const file of files) {
    if (!path.isAbsolute(file)) throw new AppError("BAD_USER_INPUT", `${what} paths must be absolute`);
  }
}

interface MasterTarget {
  run: Run;
  scoreWav: string;
  outFile: string;
  /** Called after the first measurement and after the encode (for progress). */
  onStep: (step: "measured" | "encoded") => void;
}

/**
 * Two-pass loudnorm (measure, then linear gain). A score too peaky for a plain gain goes
 * through a limiter first, its gain raised until a linear loudnorm fits (the limiter eats
 * loudness as it works). Then the delivered AAC is measured.
 */
async function normaliseAndEncode(target: MasterTarget, initial: ScoreShaping): Promise<DeliveredLoudness> {
  const collect = async (args: string[]): Promise<string[]> => {
    const lines: string[] = [];
    await target.run(args, { onStderrLine: (line) => lines.push(line) });
    return lines;
  };
  let shaping = initial;
  const measure = async (): Promise<LoudnormStats> => {
    const lines = await collect(loudnessMeasureArgs(target.scoreWav, shaping));
    try {
      return parseLoudnormJson(lines);
    } catch (error) {
      throw new AppError("MEDIA_REJECTED", "the score's loudness could not be measured (silent?)", {
        cause: error,
      });
    }
  };
  let measured = await measure();
  target.onStep("measured");
  let limiterGainDb: number | null = null;
  for (let pass = 0; pass < MAX_LIMITER_PASSES; pass += 1) {
    const next = limiterGainFor(measured, limiterGainDb, shaping.truePeakDbtp);
    if (next === null) break;
    limiterGainDb = next;
    shaping = { ...shaping, limiterGainDb };
    measured = await measure();
  }
  const encoded = parseLoudnormJson(
    await collect(
      masterScoreArgs({ ...shaping, audioFile: target.scoreWav, measured, outFile: target.outFile }),
    ),
  );
  target.onStep("encoded");
  const delivered = parseEbur128Summary(await collect(loudnessReportArgs(target.outFile)));
  const normalization =
    encoded.normalization_type === "dynamic" ? "dynamic" : limiterGainDb === null ? "linear" : "limited";
  return { ...delivered, normalization, limiterGainDb };
}

const POSTER_AT_SECONDS = 1;
/** Measuring passes spent finding a limiter gain before leaving the rest to loudnorm. */
const MAX_LIMITER_PASSES = 4;
/** How far the master's length may be from the video's (a little over one AAC frame). */
const SCORE_LENGTH_TOLERANCE_SECONDS = 0.05;

/**
 * Masters the score for a video of `durationSeconds`: shaped, normalised to −16 LUFS with true
 * peak ≤ −1 dBTP (measured on the delivered AAC), and written to `outFile` as AAC 192 kb/s
 * 48 kHz stereo. Assembly muxes it by copy, so this is the loudness the viewer hears.
 */
export async function masterScore(options: MasterScoreOptions): Promise<MasteredScore> {
  const { scoreWav, outFile, durationSeconds, logger } = options;
  assertAbsolute([scoreWav, outFile], "mastering");
  if (!(durationSeconds > 0)) throw new AppError("BAD_USER_INPUT", "the master needs a positive duration");
  const { run, probe } = withinBudget(options, "mastering the score");
  const progress = (fraction: number) => options.onProgress?.(fraction);

  const score = await probe(scoreWav);
  assertAllowedContainer(score);
  if (!score.streams.some((stream) => stream.type === "audio")) {
    throw new AppError("MEDIA_REJECTED", "the score has no audio stream");
  }

  const partial = partialPath(outFile);
  try {
    const shaping: ScoreShaping = {
      durationSeconds,
      fadeInSeconds: options.fadeIn,
      fadeOutSeconds: options.fadeOut,
    };
    // measure, encode, verify: the usual three passes (limiter passes and a redo are extra)
    const target: MasterTarget = {
      run,
      scoreWav,
      outFile: partial,
      onStep: (step) => progress(step === "measured" ? 1 / 3 : 2 / 3),
    };
    let loudness = await normaliseAndEncode(target, shaping);
    // AAC can push peaks up by a dB or more on sharp transients: check what was delivered,
    // and redo the master once with the peak target lowered by the overshoot.
    if (loudness.truePeakDbtp > LOUDNESS_TARGET.maxTruePeakDbtp) {
      const overshoot = loudness.truePeakDbtp - (shaping.truePeakDbtp ?? LOUDNESS_TARGET.truePeakDbtp);
      const truePeakDbtp = Math.max(-9, LOUDNESS_TARGET.truePeakDbtp - overshoot - 0.3);
      logger?.info(
        { delivered: loudness, truePeakDbtp },
        "score peaks over the ceiling after AAC; mastering again",
      );
      loudness = await normaliseAndEncode(target, { ...shaping, truePeakDbtp });
    }

    const result = await probe(partial);
    const audio = result.streams.find((stream) => stream.type === "audio");
    const byteSize = (await stat(partial)).size;
    await rename(partial, outFile);
    const mastered: MasteredScore = {
      loudness,
      byteSize,
      durationSeconds: audio?.durationSeconds ?? result.durationSeconds ?? durationSeconds,
    };
    logger?.debug(mastered, "master written");
    progress(1);
    return mastered;
  } finally {
    await rm(partial, { force: true });
  }
}

/**
 * Joins the clips and muxes the mastered score, both by stream copy (nothing is re-encoded),
 * with the moov atom first; takes a poster and probes the result.
 */
export async function assembleVideo(options: AssembleVideoOptions): Promise<AssembledVideo> {
  const { clipFiles, scoreAudio, logger } = options;
  if (clipFiles.length === 0) throw new AppError("BAD_USER_INPUT", "no clips to assemble");
  const { posterFile } = options;
  assertAbsolute(
    [...clipFiles, scoreAudio, options.outFile, ...(posterFile ? [posterFile] : [])],
    "assembly",
  );
  const { run, probe } = withinBudget(options, "assembly");

  const probeOnce = (file: string): Promise<MediaInfo> => {
    const known = options.probes?.get(file);
    if (known) return known;
    const started = probe(file);
    options.probes?.set(file, started);
    return started;
  };
  const [score, ...clips] = await settled([scoreAudio, ...clipFiles].map(probeOnce));
  const { width, height, fps, frames } = assertSameEncoding(clips);
  const durationSeconds = frames / fps;
  assertMastered(score, durationSeconds);

  const outPartial = partialPath(options.outFile);
  const posterPartial = posterFile ? partialPath(posterFile) : undefined;
  try {
    return await withTempDir("propvid-assembly", async (dir) => {
      const listFile = path.join(dir, "clips.ffconcat");
      await writeFile(listFile, concatListContent(clipFiles));
      // The poster frame lies in the first clip, which is copied as is: take it from there
      // while the mux runs.
      const firstClipSeconds =
        (clips[0]!.streams.find((stream) => stream.type === "video")?.frames ?? 0) / fps;
      const posterAt = Math.min(POSTER_AT_SECONDS, firstClipSeconds / 2);
      await settled<unknown>([
        run(muxCopyArgs({ listFile, audioFile: scoreAudio, durationSeconds, outFile: outPartial })),
        posterPartial ? run(posterArgs(clipFiles[0]!, posterAt, posterPartial)) : Promise.resolve(),
      ]);

      const result = await probe(outPartial);
      const video = result.streams.find((stream) => stream.type === "video");
      const byteSize = (await stat(outPartial)).size;
      if (posterFile && posterPartial) await rename(posterPartial, posterFile);
      await rename(outPartial, options.outFile);
      const assembled: AssembledVideo = {
        durationSeconds: result.durationSeconds ?? durationSeconds,
        width: video?.width ?? width,
        height: video?.height ?? height,
        byteSize,
        frames: video?.frames ?? frames,
      };
      logger?.info({ ...assembled, clips: clipFiles.length }, "assembled");
      return assembled;
    });
  } finally {
    await Promise.all([
      rm(outPartial, { force: true }),
      posterPartial ? rm(posterPartial, { force: true }) : undefined,
    ]);
  }
}

/**
 * The score is copied into the video, so it must already be what is delivered: one AAC stream
 * at 48 kHz stereo (masterScore's output), as long as the video.
 */
function assertMastered(score: MediaInfo, videoSeconds: number): void {
  assertAllowedContainer(score);
  const audios = score.streams.filter((stream) => stream.type === "audio");
  const audio = audios[0];
  if (audios.length !== 1 || !audio) throw new AppError("MEDIA_REJECTED", "the score has no audio stream");
  const { sampleRate, channels } = HOUSE_AUDIO;
  if (audio.codec !== "aac" || audio.sampleRate !== sampleRate || audio.channels !== channels) {
    throw new AppError(
      "MEDIA_REJECTED",
      `the score is not mastered: ${audio.codec} ${audio.sampleRate} Hz ${audio.channels} ch, not aac ${sampleRate} Hz ${channels} ch`,
    );
  }
  const seconds = audio.durationSeconds ?? score.durationSeconds;
  if (seconds === null || !(Math.abs(seconds - videoSeconds) <= SCORE_LENGTH_TOLERANCE_SECONDS)) {
    throw new AppError(
      "MEDIA_REJECTED",
      `the score was mastered for ${seconds ?? "an unknown number of"} s, the video is ${videoSeconds} s`,
    );
  }
}

/**
 * Promise.all that waits for every process before throwing the first failure, so nothing still
 * writes into (or reads from) files the caller is about to remove.
 */
export async function settled<T>(work: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(work);
  const failure = results.find((result) => result.status === "rejected");
  if (failure) throw failure.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

function partialPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.partial`);
}

/**
 * Stream copy is only safe when every clip has the same codec, profile, pixel format, size,
 * frame rate and timescale (anything else plays back broken, if at all). Returns the shared
 * parameters and the total frame count.
 */
export function assertSameEncoding(clips: readonly MediaInfo[]): {
  width: number;
  height: number;
  fps: number;
  frames: number;
} {
  let reference: string | null = null;
  let frames = 0;
  let shape = { width: 0, height: 0, fps: 0 };
  clips.forEach((clip, index) => {
    assertAllowedContainer(clip);
    const videos = clip.streams.filter((stream) => stream.type === "video");
    const video = videos[0];
    if (videos.length !== 1 || !video) throw mismatch(`clip ${index} has ${videos.length} video streams`);
    if (!video.width || !video.height || !video.fps || !video.frames) {
      throw mismatch(`clip ${index} lacks size, frame rate or frame count`);
    }
    if (video.codec !== "h264" || video.pixFmt !== HOUSE_VIDEO.pixFmt) {
      throw mismatch(`clip ${index} is ${video.codec}/${video.pixFmt}, not h264/${HOUSE_VIDEO.pixFmt}`);
    }
    const signature = [
      video.codec,
      video.profile,
      video.pixFmt,
      video.width,
      video.height,
      video.fps,
      video.timeBase,
    ];
    const key = signature.join("|");
    if (reference === null) {
      reference = key;
      shape = { width: video.width, height: video.height, fps: video.fps };
    } else if (key !== reference) {
      throw mismatch(`clip ${index} (${key}) differs from clip 0 (${reference}); re-encode it first`);
    }
    frames += video.frames;
  });
  return { ...shape, frames };
}

const mismatch = (message: string): AppError =>
  new AppError("MEDIA_REJECTED", `cannot join by copy: ${message}`);
