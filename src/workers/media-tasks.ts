/**
 * The media work that runs off the main thread, by name: the pool's typed task list (the worker
 * side is media.worker.ts) and the one place that creates the process's pool.
 */
// The main thread loads sharp before any worker does: on glibc Linux its libraries must stay
// loaded until every thread has finished with them (sharp's documentation on worker threads).
import "sharp";
import type { Logger } from "../logger.js";
import type { PixelMetrics, Pixels } from "../media/image-metrics.js";
import type { VideoClipRequest } from "../providers/local/clip-encoder.js";
import type { ScoreAudioRequest } from "../providers/local/score-renderer.js";
import type { DrawnLayers, LayerDrawer, LayerRequest } from "../render/layer-drawing.js";
import { reviveLayers } from "../render/layer-drawing.js";
import type { TaskSpec } from "./worker-messages.js";
import { WorkerPool } from "./worker-pool.js";

// A type, not an interface: only a type literal is assignable to the pool's Record<string, …>.
export type MediaTasks = {
  /**
   * A clip rendered: photos decoded, frames sampled and encoded by an FFmpeg this thread starts
   * (local video). Progress is the share of frames written.
   */
  "video-clip": TaskSpec<VideoClipRequest, { frames: number }>;
  /** The score as a WAV file's bytes, header first (local music provider). */
  "score-audio": TaskSpec<ScoreAudioRequest, { frames: number }, Uint8Array>;
  /** Image analysis's numbers for a decoded photo (ingest). */
  "image-metrics": TaskSpec<Pixels, PixelMetrics>;
  /** On-screen layers drawn (text layout, QR codes, SVG): the listing video's overlays. */
  "overlay-layers": TaskSpec<LayerRequest, DrawnLayers>;
};

export type MediaWorkerPool = WorkerPool<MediaTasks>;

/**
 * The process's media threads: `size` is RENDER_CONCURRENCY, `niceness` RENDER_NICE (of the encoders
 * they start). Close it when
 * the process stops.
 */
export function createMediaWorkerPool(options: {
  size: number;
  niceness?: number;
  logger?: Logger;
}): MediaWorkerPool {
  return new WorkerPool<MediaTasks>({
    size: options.size,
    niceness: options.niceness,
    logger: options.logger,
    name: "propvid-media",
    script: new URL("./media.worker.js", import.meta.url),
  });
}

/** Draws overlay layers in a media thread, off the event loop (src/render/layer-drawing.ts). */
export function layerDrawerOf(workers: MediaWorkerPool): LayerDrawer {
  return async (request) => reviveLayers(await workers.run("overlay-layers", request));
}
