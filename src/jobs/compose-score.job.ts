import { createReadStream } from "node:fs";
import path from "node:path";
import type { Services } from "../container.js";
import { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import { returnedRows } from "../db/sql.js";
import { AppError, isAppError } from "../errors.js";
import { appendJobEvent } from "../events/job-events.js";
import { masterScore } from "../media/assembly.js";
import { withTempDir } from "../media/ffmpeg.runner.js";
import { planScenes } from "../providers/local/scene-plan.js";
import type { MusicMood, SceneType } from "../providers/types.js";
import { PartWatcher } from "./job-progress.js";
import { isLastAttempt, type JobHandler } from "./worker.js";

const SAMPLE_RATE = 48_000;
const MAX_SCORE_BYTES = 256 * 1024 * 1024;
const FADE_IN_SECONDS = 0.5;
const FADE_OUT_SECONDS = 1.5;
/** Share of the score's progress bar spent composing; mastering takes the rest. */
const COMPOSE_SHARE = 0.7;

/**
 * video.score: composes the whole soundtrack while the scenes render (not after them), one
 * segment per scene, masters it (exact length, fades, −16 LUFS, AAC) and stores the master.
 * Assembly waits for it like for any scene, then only has to copy it into the video.
 */
export const composeScoreJob =
  (services: Services): JobHandler<"video.score"> =>
  async ({ jobId }, attempt) => {
    const { dataSource, pipeline, media, ffmpeg } = services;
    const job = await dataSource.getRepository(VideoJobEntity).findOne({ where: { id: jobId } });
    if (!job || (job.status !== "RENDERING" && job.status !== "PLANNING")) return;
    const claimed = returnedRows(
      await dataSource.query(
        `UPDATE video_job SET score_status = 'RUNNING', score_progress = 0, updated_at = now()
          WHERE id = $1 AND score_status IN ('PENDING', 'RUNNING') RETURNING id`,
        [jobId],
      ),
    );
    if (claimed.length === 0) return;
    const log = services.logger.child({ jobId, tenantId: job.tenantId, part: "score" });
    await appendJobEvent(dataSource, jobId, "JOB_UPDATED", { scoreStatus: "RUNNING", scoreProgress: 0 });
    const watcher = new PartWatcher(dataSource, jobId, async (fraction) => {
      await dataSource.query(
        "UPDATE video_job SET score_progress = $2 WHERE id = $1 AND score_status = 'RUNNING'",
        [jobId, fraction],
      );
    }).start();
    try {
      const scenes = await dataSource
        .getRepository(SceneEntity)
        .find({ where: { jobId }, order: { index: "ASC" } });
      const sceneTypes: SceneType[] = scenes.length
        ? scenes.map((scene) => scene.sceneType as SceneType)
        : planScenes(job.options.sceneCount);
      let costUsd = 0;
      const stored = await withTempDir(`propvid-score-${jobId.slice(0, 8)}-`, async (dir) => {
        const scoreWav = path.join(dir, "score.wav");
        const provider = pipeline.providers.music(job.options.musicProvider);
        const started = Date.now();
        const composed = await provider.compose({
          mood: job.options.mood as MusicMood,
          segments: sceneTypes.map((sceneType) => ({ sceneType, seconds: job.options.secondsPerScene })),
          sampleRate: SAMPLE_RATE,
          outFile: scoreWav,
          workDir: dir,
          onProgress: (fraction) => watcher.report(fraction * COMPOSE_SHARE),
          signal: watcher.signal,
        });
        costUsd = composed.costUsd ?? 0;
        log.info({ ms: Date.now() - started, costUsd }, "score composed");
        const mastering = Date.now();
        const outFile = path.join(dir, "score.m4a");
        const mastered = await masterScore({
          ffmpeg: ffmpeg.ffmpeg,
          ffprobe: ffmpeg.ffprobe,
          scoreWav,
          durationSeconds: job.options.sceneCount * job.options.secondsPerScene,
          fadeIn: FADE_IN_SECONDS,
          fadeOut: FADE_OUT_SECONDS,
          outFile,
          timeoutMs: 3 * 60_000,
          signal: watcher.signal,
          logger: log,
          onProgress: (fraction) => watcher.report(COMPOSE_SHARE + fraction * (1 - COMPOSE_SHARE)),
        });
        log.info({ ms: Date.now() - mastering, loudness: mastered.loudness }, "score mastered");
        return await media.store(job.tenantId, createReadStream(outFile), {
          contentType: "audio/mp4",
          maxBytes: MAX_SCORE_BYTES,
        });
      });
      const saved = await dataSource.transaction(async (manager) => {
        const updated = returnedRows(
          await manager.query(
            `UPDATE video_job SET score_status = 'SUCCEEDED', score_progress = 1, score_media_id = $2, updated_at = now()
              WHERE id = $1 AND score_status = 'RUNNING' AND status NOT IN ('CANCELLED', 'FAILED') RETURNING id`,
            [jobId, stored.media.id],
          ),
        );
        if (updated.length && costUsd > 0)
          await pipeline.recordActualCost(manager, jobId, "MUSIC", null, costUsd);
        if (updated.length)
          await appendJobEvent(manager, jobId, "JOB_UPDATED", { scoreStatus: "SUCCEEDED", scoreProgress: 1 });
        return updated.length > 0;
      });
      if (!saved) await pipeline.releaseMedia([stored.media.id]);
      else await pipeline.maybeAssemble(jobId);
    } catch (error) {
      if (watcher.signal.aborted || (isAppError(error) && error.code === "CANCELLED")) return;
      const final =
        (isAppError(error) && !error.transient && error.code !== "TIMEOUT") ||
        isLastAttempt("video.score", attempt.retryCount);
      const app = isAppError(error)
        ? error
        : new AppError("PROVIDER_FAILED", "The score could not be composed");
      log.warn({ err: error, final }, "score failed");
      await dataSource.query(
        "UPDATE video_job SET score_status = $2, score_error = $3 WHERE id = $1 AND score_status = 'RUNNING'",
        [jobId, final ? "FAILED" : "PENDING", app.message],
      );
      if (final) await pipeline.failJob(jobId, app.code, `Music: ${app.message}`);
      else throw error;
    } finally {
      watcher.stop();
    }
  };
