/**
 * The embedded video provider: a camera move over the scene's first photo that hands over to
 * its last photo with a short, motion-matched dissolve, rendered on this machine.
 *
 * This side checks the request and owns the deadline, the abort and the file: a media worker
 * thread does the rest (clip-encoder.ts: photo-decoder.ts decodes and prescales each photo once
 * with sharp, frame-sampler.ts samples the frames along camera-move.ts's eased path, and they
 * are written straight into ONE x264 encoder at the house settings that the thread starts).
 * The main thread only hears progress, so the API stays responsive. A deadline or the caller's
 * abort cancels the task: the thread kills the encoder's process group (or, if the thread is
 * stuck, the pool terminates it and kills the group), and the partial clip is removed.
 */
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { MediaWorkerPool } from "../../workers/media-tasks.js";
import type { VideoProvider, VideoRenderRequest, VideoRenderResult } from "../types.js";

export interface LocalVideoProviderOptions {
  /** The ffmpeg binary (see resolveFfmpegBinaries). */
  ffmpeg: string;
  /** Where clips are rendered: decoding, sampling and the encoder run in one of its threads. */
  workers: MediaWorkerPool;
  /** Wall-clock limit for one render; default 60 s + 10 s per second of clip. */
  timeoutMs?: number;
  logger?: Logger;
}

export class LocalVideoProvider implements VideoProvider {
  readonly name = "local";
  private readonly ffmpeg: string;
  private readonly workers: MediaWorkerPool;
  private readonly timeoutMs: number | undefined;
  private readonly logger: Logger | undefined;

  constructor(options: LocalVideoProviderOptions) {
    this.ffmpeg = options.ffmpeg;
    this.workers = options.workers;
    this.timeoutMs = options.timeoutMs;
    this.logger = options.logger;
  }

  async render(request: VideoRenderRequest): Promise<VideoRenderResult> {
    const { width, height, fps, outFile } = request;
    if (!(width > 0 && height > 0 && width % 2 === 0 && height % 2 === 0)) {
      throw new AppError("BAD_USER_INPUT", `output size must be even and positive: ${width}x${height}`);
    }
    if (!(request.seconds > 0 && fps > 0))
      throw new AppError("BAD_USER_INPUT", "seconds and fps must be positive");
    const frameCount = Math.round(request.seconds * fps);
    const timeoutMs = this.timeoutMs ?? 60_000 + request.seconds * 10_000;
    const partialFile = path.join(path.dirname(outFile), `.${path.basename(outFile)}.partial`);
    const log = this.logger?.child({ provider: this.name, cameraMove: request.cameraMove });

    // One signal for "stop": the caller's abort or our own deadline.
    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, timeoutMs);
    const onAbort = () => stop.abort();
    if (request.signal?.aborted) stop.abort();
    request.signal?.addEventListener("abort", onAbort, { once: true });
    const checkpoint = () => {
      if (timedOut)
        throw new AppError("TIMEOUT", `local render exceeded ${timeoutMs} ms`, { transient: true });
      if (stop.signal.aborted) throw new AppError("CANCELLED", "local render cancelled");
    };

    const started = Date.now();
    try {
      checkpoint();
      const same = request.firstImagePath === request.lastImagePath;
      await this.workers.run(
        "video-clip",
        {
          firstImagePath: request.firstImagePath,
          lastImagePath: same ? null : request.lastImagePath,
          cameraMove: request.cameraMove,
          output: { width, height },
          frameCount,
          // the title, caption or disclosure ride on this one encode
          overlays: request.overlays?.length ? request.overlays : undefined,
          fps,
          ffmpeg: this.ffmpeg,
          outFile: partialFile,
          timeoutMs,
        },
        {
          signal: stop.signal,
          // the partial file is ours to remove: only once the encoder is dead
          waitForStop: true,
          onProgress: (fraction) => request.onProgress?.(Math.min(0.99, fraction)),
        },
      );
      checkpoint();
      await rename(partialFile, outFile);
      request.onProgress?.(1);
      log?.info({ frames: frameCount, totalMs: Date.now() - started }, "local clip rendered");
      return { outFile, costUsd: 0, overlaysBurned: Boolean(request.overlays?.length) };
    } catch (error) {
      await rm(partialFile, { force: true });
      if (timedOut)
        throw new AppError("TIMEOUT", `local render exceeded ${timeoutMs} ms`, {
          transient: true,
          cause: error,
        });
      if (request.signal?.aborted)
        throw new AppError("CANCELLED", "local render cancelled", { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
    }
  }
}
