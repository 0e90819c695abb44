import { createReadStream } from "node:fs";
import path from "node:path";
import type { VideoJobEntity } from "../db/entities/index.js";
import { AppError } from "../errors.js";
import { assembleVideo } from "../media/assembly.js";
import { withTempDir } from "../media/ffmpeg.runner.js";
import type { FinishedAssembly } from "../services/video-job.state-machine.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import type { JobHandler } from "./worker.js";

const MAX_VIDEO_BYTES = 2 * 1024 * 1024 * 1024;
const MAX_POSTER_BYTES = 50 * 1024 * 1024;

export type AssembleVideoDeps = Pick<PipelineDeps, "jobs" | "cancellations" | "media" | "ffmpeg" | "logger">;

/**
 * video.assemble: runs once per assembly generation (the fan-in enqueues it exactly once).
 * Joins the clips and muxes the mastered score, all by stream copy (the loudness work was done
 * by video.score), stores video and poster, and ends the job SUCCEEDED — unless it was cancelled
 * or superseded meanwhile, in which case it keeps nothing.
 */
export const assembleVideoJob =
  (deps: AssembleVideoDeps): JobHandler<"video.assemble"> =>
  async ({ jobId, generation }, run) => {
    const job = await deps.jobs.load(jobId);
    if (job?.status !== "ASSEMBLING" || job.assemblyGeneration !== generation) return;
    run.onFailure((failure) => deps.jobs.stepFailed(jobId, failure, "Assembly"), {
      code: "INTERNAL_SERVER_ERROR",
      message: "Assembly failed",
    });
    run.watch(jobId, deps.cancellations);
    const video = await assemble(deps, job, run.signal);
    await deps.jobs.finish(jobId, generation, video);
  };

/** Downloads the clips and the score, joins them by stream copy, stores the video and its poster. */
async function assemble(
  deps: AssembleVideoDeps,
  job: VideoJobEntity,
  signal: AbortSignal,
): Promise<FinishedAssembly> {
  const { media } = deps;
  const log = deps.logger.child({ jobId: job.id, tenantId: job.tenantId, part: "assemble" });
  const scenes = await deps.jobs.scenes(job.id);
  const clipMedia = await media.byIds(
    job.tenantId,
    scenes.map((scene) => scene.clipMediaId ?? ""),
  );
  const score = job.scoreMediaId ? await media.byId(job.tenantId, job.scoreMediaId) : null;
  const byId = new Map(clipMedia.map((row) => [row.id, row]));
  // Two scenes may share one clip (same bytes are stored once), so check per scene.
  if (!score || scenes.some((scene) => !scene.clipMediaId || !byId.has(scene.clipMediaId))) {
    throw new AppError("INTERNAL_SERVER_ERROR", "A clip or the score is missing");
  }
  return await withTempDir(`propvid-assemble-${job.id.slice(0, 8)}-`, async (dir) => {
    const clipFiles = scenes.map((scene) =>
      path.join(dir, `clip-${String(scene.index).padStart(2, "0")}.mp4`),
    );
    const scoreAudio = path.join(dir, "score.m4a");
    // All downloads at once: they are bound by the database, not by this process.
    await Promise.all([
      ...scenes.map((scene, i) => media.toFile(byId.get(scene.clipMediaId!)!, clipFiles[i]!, signal)),
      media.toFile(score, scoreAudio, signal),
    ]);
    const outFile = path.join(dir, "video.mp4");
    const posterFile = path.join(dir, "poster.jpg");
    const started = Date.now();
    const assembled = await assembleVideo({
      ffmpeg: deps.ffmpeg.ffmpeg,
      ffprobe: deps.ffmpeg.ffprobe,
      clipFiles,
      scoreAudio,
      outFile,
      posterFile,
      timeoutMs: 5 * 60_000,
      signal,
      logger: log,
    });
    log.info({ ms: Date.now() - started }, "video assembled");
    const video = await media.store(job.tenantId, createReadStream(outFile), {
      contentType: "video/mp4",
      maxBytes: MAX_VIDEO_BYTES,
    });
    const poster = await media.store(job.tenantId, createReadStream(posterFile), {
      contentType: "image/jpeg",
      maxBytes: MAX_POSTER_BYTES,
    });
    return {
      videoMediaId: video.media.id,
      posterMediaId: poster.media.id,
      durationSeconds: assembled.durationSeconds,
      width: assembled.width,
      height: assembled.height,
      byteSize: video.media.byteSize,
    };
  });
}
