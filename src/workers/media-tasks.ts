/**
 * The media work that runs off the main thread, by name: the pool's typed task list (the worker
 * side is media.worker.ts) and the one place that creates the process's pool.
 */
// The main thread loads sharp before any worker does: on glibc Linux its libraries must stay
// loaded until every thread has finished with them (sharp's documentation on worker threads).
import "sharp";
import type { Logger } from "../logger.js";
import type { PixelMetrics, Pixels } from "../media/image-metrics.js";
import type { VideoFramesRequest } from "../providers/local/photo-decoder.js";
import type { ScoreAudioRequest } from "../providers/local/score-renderer.js";
import type { TaskSpec } from "./worker-messages.js";
import { WorkerPool } from "./worker-pool.js";

// A type, not an interface: only a type literal is assignable to the pool's Record<string, …>.
export type MediaTasks = {
  /** A clip's photos decoded, then its frames as yuv420p, one chunk per frame (local video). */
  "video-frames": TaskSpec<VideoFramesRequest, { frames: number }, Uint8Array>;
  /** The score as a WAV file's bytes, header first (local music provider). */
  "score-audio": TaskSpec<ScoreAudioRequest, { frames: number }, Uint8Array>;
  /** Image analysis's numbers for a decoded photo (ingest). */
  "image-metrics": TaskSpec<Pixels, PixelMetrics>;
};

export type MediaWorkerPool = WorkerPool<MediaTasks>;

/** The process's media threads: `size` is RENDER_CONCURRENCY. Close it when the process stops. */
export function createMediaWorkerPool(options: { size: number; logger?: Logger }): MediaWorkerPool {
  return new WorkerPool<MediaTasks>({
    size: options.size,
    logger: options.logger,
    name: "propvid-media",
    script: new URL("./media.worker.js", import.meta.url),
  });
}
