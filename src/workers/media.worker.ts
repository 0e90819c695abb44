/**
 * The media worker thread's entry: the CPU-heavy media code, served to the pool (media-tasks.ts).
 * No database and no writes: computation, plus sharp decoding a clip's photos from their files
 * (a cancelled task is acknowledged at once by the task host, so a thread is only terminated
 * when its JavaScript is stuck, never in the middle of a libvips call).
 */
import { pixelMetrics } from "../media/image-metrics.js";
import { FrameSampler } from "../providers/local/frame-sampler.js";
import { decodeClipPhotos } from "../providers/local/photo-decoder.js";
import { scoreWav } from "../providers/local/score-renderer.js";
import { prepareFrameOverlays } from "../render/frame-compositor.js";
import type { MediaTasks } from "./media-tasks.js";
import { serveTasks } from "./task-host.js";

serveTasks<MediaTasks>({
  async "video-frames"(request, task) {
    const sampler = new FrameSampler(await decodeClipPhotos(request));
    const { overlays } = request;
    const overlay = await prepareFrameOverlays(overlays?.layers, {
      ...request.output,
      fps: overlays?.fps ?? 1,
    });
    for (let index = 0; index < sampler.frameCount; index += 1) {
      await task.demand();
      const frame = sampler.frame(index);
      overlay?.(frame, index);
      task.emit(frame);
    }
    return { frames: sampler.frameCount };
  },
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
});
