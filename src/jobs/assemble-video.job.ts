import { createReadStream } from "node:fs";
import path from "node:path";
import type { Services } from "../container.js";
import { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import { returnedRows } from "../db/sql.js";
import { AppError, isAppError } from "../errors.js";
import { appendJobEvent } from "../events/job-events.js";
import { assembleVideo } from "../media/assembly.js";
import { withTempDir } from "../media/ffmpeg.runner.js";
import { deleteUnreferencedMedia } from "../media/media-references.js";
import { PartWatcher } from "./job-progress.js";
import { isLastAttempt, type JobHandler } from "./worker.js";

const MAX_VIDEO_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * video.assemble: runs once per assembly generation (the fan-in enqueues it exactly once).
 * Joins the clips and muxes the mastered score, all by stream copy (the loudness work was done
 * by video.score), stores video and poster, and ends the job SUCCEEDED — unless it was cancelled
 * or superseded meanwhile, in which case it keeps nothing.
 */
export const assembleVideoJob =
  (services: Services): JobHandler<"video.assemble"> =>
  async ({ jobId, generation }, attempt) => {
    const { dataSource, pipeline, media, ffmpeg } = services;
    const job = await dataSource.getRepository(VideoJobEntity).findOne({ where: { id: jobId } });
    if (job?.status !== "ASSEMBLING" || job.assemblyGeneration !== generation) return;
    const log = services.logger.child({ jobId, tenantId: job.tenantId, part: "assemble" });
    const watcher = new PartWatcher(dataSource, jobId, async () => {}).start();
    try {
      const scenes = await dataSource
        .getRepository(SceneEntity)
        .find({ where: { jobId }, order: { index: "ASC" } });
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
      const result = await withTempDir(`propvid-assemble-${jobId.slice(0, 8)}-`, async (dir) => {
        const clipFiles: string[] = [];
        for (const scene of scenes)
          clipFiles.push(path.join(dir, `clip-${String(scene.index).padStart(2, "0")}.mp4`));
        const scoreAudio = path.join(dir, "score.m4a");
        // All downloads at once: they are bound by the database, not by this process.
        await Promise.all([
          ...scenes.map((scene, i) =>
            media.toFile(byId.get(scene.clipMediaId!)!, clipFiles[i]!, watcher.signal),
          ),
          media.toFile(score, scoreAudio, watcher.signal),
        ]);
        const outFile = path.join(dir, "video.mp4");
        const posterFile = path.join(dir, "poster.jpg");
        const started = Date.now();
        const assembled = await assembleVideo({
          ffmpeg: ffmpeg.ffmpeg,
          ffprobe: ffmpeg.ffprobe,
          clipFiles,
          scoreAudio,
          outFile,
          posterFile,
          timeoutMs: 5 * 60_000,
          signal: watcher.signal,
          logger: log,
        });
        log.info({ ms: Date.now() - started }, "video assembled");
        const video = await media.store(job.tenantId, createReadStream(outFile), {
          contentType: "video/mp4",
          maxBytes: MAX_VIDEO_BYTES,
        });
        const poster = await media.store(job.tenantId, createReadStream(posterFile), {
          contentType: "image/jpeg",
          maxBytes: 50 * 1024 * 1024,
        });
        return { assembled, video: video.media, poster: poster.media };
      });
      const previous = { video: job.videoMediaId, poster: job.posterMediaId };
      const finished = await dataSource.transaction(async (manager) => {
        const updated = returnedRows(
          await manager.query(
            `UPDATE video_job SET status = 'SUCCEEDED', stage = 'done', progress = 1, video_media_id = $3, poster_media_id = $4,
                    audio_media_id = score_media_id, duration_seconds = $5, width = $6, height = $7,
                    cost = CASE WHEN jsonb_array_length(cost) > 0 THEN cost ELSE estimated_cost END, finished_at = now(), updated_at = now()
              WHERE id = $1 AND status = 'ASSEMBLING' AND assembly_generation = $2 RETURNING id`,
            [
              jobId,
              generation,
              result.video.id,
              result.poster.id,
              result.assembled.durationSeconds,
              result.assembled.width,
              result.assembled.height,
            ],
          ),
        );
        if (updated.length === 0) return false;
        await appendJobEvent(manager, jobId, "COMPLETED", {
          status: "SUCCEEDED",
          video: {
            mediaId: result.video.id,
            durationSeconds: result.assembled.durationSeconds,
            width: result.assembled.width,
            height: result.assembled.height,
            byteSize: result.video.byteSize,
          },
        });
        // A re-assembly replaces the earlier video and poster: they go in the same transaction.
        await deleteUnreferencedMedia(
          manager,
          [previous.video, previous.poster].filter(
            (id): id is string => id !== null && id !== result.video.id && id !== result.poster.id,
          ),
        );
        return true;
      });
      if (!finished) await pipeline.releaseMedia([result.video.id, result.poster.id]);
    } catch (error) {
      if (watcher.signal.aborted || (isAppError(error) && error.code === "CANCELLED")) return;
      const final =
        (isAppError(error) && !error.transient && error.code !== "TIMEOUT") ||
        isLastAttempt("video.assemble", attempt.retryCount);
      log.warn({ err: error, final }, "assembly failed");
      if (final) {
        const app = isAppError(error) ? error : new AppError("INTERNAL_SERVER_ERROR", "Assembly failed");
        await pipeline.failJob(jobId, app.code, `Assembly: ${app.message}`);
      } else throw error;
    } finally {
      watcher.stop();
    }
  };
