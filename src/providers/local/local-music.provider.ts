/**
 * The embedded music provider: a seeded score for the video's scenes, rendered to a WAV of exactly
 * the requested length. Composing and synthesising run in a media worker thread
 * (score-renderer.ts); this side checks the request, streams the bytes into the file with
 * backpressure, reports progress and cancels.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { AppError, badInput, isAppError } from "../../errors.js";
import type { MediaWorkerPool } from "../../workers/media-tasks.js";
import type { MusicProvider, MusicRequest } from "../types.js";
import type { WavSampleFormat } from "./wav.js";

/** Longest score we agree to render; far beyond any listing video, short of a runaway request. */
const MAX_SECONDS = 600;
/** Bytes of audio buffered between the worker and the file: a few of its ~50 kB chunks. */
const BUFFERED_BYTES = 256 * 1024;

export interface LocalMusicOptions {
  /** Where the synth runs. */
  workers: MediaWorkerPool;
  /** WAV sample encoding; 24-bit keeps headroom for the later loudness normalisation. */
  sampleFormat?: WavSampleFormat;
  /** Frames per mixer block (~21 ms at 48 kHz). */
  blockFrames?: number;
}

export class LocalMusicProvider implements MusicProvider {
  readonly name = "local";
  private readonly workers: MediaWorkerPool;
  private readonly sampleFormat: WavSampleFormat;
  private readonly blockFrames: number;

  constructor(options: LocalMusicOptions) {
    this.workers = options.workers;
    this.sampleFormat = options.sampleFormat ?? "pcm24";
    this.blockFrames = options.blockFrames ?? 1024;
  }

  async compose(request: MusicRequest): Promise<{ outFile: string; costUsd?: number }> {
    validate(request);
    if (request.signal?.aborted) throw cancelled();
    // Written beside the target and renamed at the end, so a crash or a cancel never leaves a
    // truncated file where a finished one is expected (and two renders never share a temp file).
    const partFile = `${request.outFile}.${randomUUID().slice(0, 8)}.part`;
    let reported = 0;
    const audio = this.workers.stream(
      "score-audio",
      {
        mood: request.mood,
        segments: request.segments,
        sampleRate: request.sampleRate,
        sampleFormat: this.sampleFormat,
        blockFrames: this.blockFrames,
      },
      {
        highWaterMark: BUFFERED_BYTES,
        onProgress: (fraction) => {
          if (fraction - reported < 0.02 || fraction >= 1) return;
          reported = fraction;
          request.onProgress?.(fraction);
        },
      },
    );
    try {
      await pipeline(audio, createWriteStream(partFile), { signal: request.signal });
      await rename(partFile, request.outFile);
    } catch (error) {
      await rm(partFile, { force: true }).catch(() => undefined);
      if (request.signal?.aborted) throw cancelled(error);
      if (isAppError(error)) throw error;
      throw new AppError("PROVIDER_FAILED", "local music render failed", { cause: error });
    }
    request.onProgress?.(1);
    return { outFile: request.outFile, costUsd: 0 };
  }
}

function validate(request: MusicRequest): void {
  const { segments, sampleRate } = request;
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192000) {
    throw badInput("sampleRate must be an integer between 8000 and 192000", { sampleRate });
  }
  if (!Array.isArray(segments) || segments.length === 0) throw badInput("music needs at least one segment");
  for (const [index, segment] of segments.entries()) {
    if (!Number.isFinite(segment.seconds) || segment.seconds <= 0) {
      throw badInput("segment seconds must be a positive number", { index, seconds: segment.seconds });
    }
  }
  const total = segments.reduce((sum, s) => sum + s.seconds, 0);
  if (total < 1 || total > MAX_SECONDS) {
    throw badInput(`music length must be between 1 and ${MAX_SECONDS} seconds`, { seconds: total });
  }
}

function cancelled(cause?: unknown): AppError {
  return new AppError("CANCELLED", "music render cancelled", cause === undefined ? {} : { cause });
}
