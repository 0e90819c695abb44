import { copyFile } from "node:fs/promises";
import path from "node:path";
import { LocalMusicProvider } from "../../src/providers/local/local-music.provider.js";
import { LocalVideoProvider } from "../../src/providers/local/local-video.provider.js";
import type { ProviderEntry } from "../../src/providers/registry.js";
import type {
  MusicProvider,
  MusicRequest,
  VideoProvider,
  VideoRenderRequest,
} from "../../src/providers/types.js";
import type { MediaWorkerPool } from "../../src/workers/media-tasks.js";

/** Where a fixed-time provider's clip comes from (made once, copied for every scene). */
export type ClipSource = (request: VideoRenderRequest) => Promise<string>;

/**
 * A video provider that takes exactly `seconds` per clip and charges `usdPerClip`: it copies a
 * ready clip, then waits out the rest. Scheduling tests and benchmarks use it so their timings
 * measure the queues, not the CPU.
 */
export function fixedTimeVideo(options: {
  name: string;
  seconds: number;
  clip: ClipSource;
  usdPerClip?: number;
  /**
   * Answer as a provider that drew the overlays itself (as the local renderer does), so the
   * pipeline does not burn them with FFmpeg: a scenario that measures queueing, not CPU.
   */
  overlaysBurned?: boolean;
}): ProviderEntry<VideoProvider> {
  const provider: VideoProvider = {
    name: options.name,
    async render(request) {
      const started = Date.now();
      await copyFile(await options.clip(request), request.outFile);
      request.onProgress?.(0.5);
      const rest = Math.max(0, options.seconds * 1000 - (Date.now() - started));
      await new Promise((resolve) => setTimeout(resolve, rest));
      request.onProgress?.(1);
      return {
        outFile: request.outFile,
        costUsd: options.usdPerClip ?? 0,
        overlaysBurned: options.overlaysBurned === true,
      };
    },
  };
  return {
    name: options.name,
    description: `test: exactly ${options.seconds} s per clip`,
    price: { unit: "second", unitPriceUsd: 0 },
    create: () => provider,
  };
}

/** Runs `make` the first time it is called and hands every caller its one result. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make();
    return made;
  };
}

/** A request's fields for a local provider writing to `outFile` in `dir`, without its progress or signal. */
const scratchRequest = <R>(request: R, dir: string, outFile: string) => ({
  ...request,
  outFile,
  workDir: dir,
  onProgress: undefined,
  signal: undefined,
});

/** A clip rendered once by the local provider from the first request, then reused. */
export function localClipOnce(deps: { ffmpeg: string; workers: MediaWorkerPool; dir: string }): ClipSource {
  let first: VideoRenderRequest | undefined;
  const clip = once(async () => {
    const outFile = path.join(deps.dir, "fixed-time-clip.mp4");
    const local = new LocalVideoProvider({ ffmpeg: deps.ffmpeg, workers: deps.workers });
    await local.render(scratchRequest(first!, deps.dir, outFile));
    return outFile;
  });
  return (request) => {
    first ??= request;
    return clip();
  };
}

/**
 * A music provider that composes one score with the local provider and hands a copy of it to
 * every job after that: for tests whose jobs all have the same length and that measure queues.
 */
export function reusedLocalScore(deps: {
  workers: MediaWorkerPool;
  dir: string;
  name: string;
}): ProviderEntry<MusicProvider> {
  let first: MusicRequest | undefined;
  const score = once(async () => {
    const outFile = path.join(deps.dir, "reused-score.wav");
    await new LocalMusicProvider({ workers: deps.workers }).compose(
      scratchRequest(first!, deps.dir, outFile),
    );
    return outFile;
  });
  const provider: MusicProvider = {
    name: deps.name,
    async compose(request) {
      first ??= request;
      await copyFile(await score(), request.outFile);
      return { outFile: request.outFile, costUsd: 0 };
    },
  };
  return {
    name: deps.name,
    description: "test: one local score, reused",
    price: { unit: "second", unitPriceUsd: 0 },
    create: () => provider,
  };
}
