/**
 * The embedded video provider: a camera move over the scene's first photo that hands over to
 * its last photo with a motion-matched crossfade, rendered on this machine.
 *
 * This side orchestrates: a media worker thread decodes and prescales each photo once
 * (photo-decoder.ts, sharp) and samples the frames (frame-sampler.ts: sub-pixel bilinear in
 * BT.709 YUV 4:2:0); they stream into ONE x264 encoder at the house settings, with
 * backpressure. The main thread only moves finished frames, so the API stays responsive. A deadline and
 * the caller's abort stop the render: the encoder's process group is killed, the worker's task
 * is cancelled, and the partial clip is removed.
 */
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { runFfmpeg } from "../../media/ffmpeg.runner.js";
import { encodeRawFramesArgs } from "../../media/ffmpeg-commands.js";
import type { MediaWorkerPool } from "../../workers/media-tasks.js";
import type { VideoProvider, VideoRenderRequest, VideoRenderResult } from "../types.js";

export interface LocalVideoProviderOptions {
  /** The ffmpeg binary (see resolveFfmpegBinaries). */
  ffmpeg: string;
  /** Where the frames are sampled. */
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
    const deadline = Date.now() + timeoutMs;
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
    let frames: Readable | undefined;
    try {
      checkpoint();
      const same = request.firstImagePath === request.lastImagePath;
      // A worker thread decodes the photos and samples the frames; they are pulled one per
      // read (at most a frame or two ahead of the encoder) and each comes back moved, not copied.
      let framesDone = 0;
      frames = this.workers.stream(
        "video-frames",
        {
          firstImagePath: request.firstImagePath,
          lastImagePath: same ? null : request.lastImagePath,
          cameraMove: request.cameraMove,
          output: { width, height },
          frameCount,
          // the title, caption or disclosure ride on this one encode
          overlays: request.overlays?.length ? { fps, layers: request.overlays } : undefined,
        },
        {
          // one frame ahead: sampling and the hand-over to FFmpeg overlap instead of taking turns
          prefetch: 1,
          onChunk: () => {
            framesDone += 1;
            if (framesDone % 6 === 0) request.onProgress?.(Math.min(0.99, framesDone / frameCount));
          },
        },
      );
      await runFfmpeg(
        this.ffmpeg,
        encodeRawFramesArgs({
          width,
          height,
          fps,
          frames: frameCount,
          outFile: partialFile,
          pixelFormat: "yuv420p",
        }),
        {
          timeoutMs: Math.max(1, deadline - Date.now()),
          signal: stop.signal,
          stdin: frames,
          logger: log,
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
      // Stops the worker's task if FFmpeg never got to read (a no-op once the frames are all out).
      frames?.destroy();
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
    }
  }
}
