/**
 * The media worker thread's entry: the CPU-heavy media code, served to the pool (media-tasks.ts).
 * No database: computation, sharp decoding a clip's photos from their files, and the clip's
 * encoder (FFmpeg through the one runner, writing the file the provider named). A cancelled task
 * is acknowledged at once by the task host (its abort kills the encoder first), so a thread is
 * only terminated when its JavaScript is stuck, never in the middle of a libvips call.
 */
import { pixelMetrics } from "../media/image-metrics.js";
import { encodeClip } from "../providers/local/clip-encoder.js";
import { scoreWav } from "../providers/local/score-renderer.js";
import { drawLayersHere, reviveSpec } from "../render/layer-drawing.js";
import type { MediaTasks } from "./media-tasks.js";
import { serveTasks } from "./task-host.js";

serveTasks<MediaTasks>({
  "video-clip": (request, task) => encodeClip(request, task),
  async "score-audio"(request, task) {
    let frames = 0;
    for (const chunk of scoreWav(request)) {
      await task.demand();
      task.emit(chunk.bytes);
      task.progress(chunk.progress);
      frames = chunk.frames;
    }
    return { frames };
  },
  "image-metrics": (pixels) => pixelMetrics(pixels),
  "overlay-layers": (request) => drawLayersHere({ ...request, spec: reviveSpec(request.spec) }),
});
