import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import type { Services } from "../container.js";
import { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import { returnedRows } from "../db/sql.js";
import { AppError, isAppError } from "../errors.js";
import { appendJobEvent } from "../events/job-events.js";
import { withTempDir } from "../media/ffmpeg.runner.js";
import { type AspectRatio, type CameraMove, FPS, OUTPUT_SIZE } from "../providers/types.js";
import { PartWatcher } from "./job-progress.js";
import { isLastAttempt, type JobHandler } from "./worker.js";

/** A clip may be as large as this (a 10 s 1080p clip is ~10 MB; providers' clips are normalised). */
const MAX_CLIP_BYTES = 512 * 1024 * 1024;

/**
 * video.scene: renders one scene's clip with its provider and stores it. The scene is claimed
 * with a fresh attempt token; every later write is guarded by that token, so a worker whose
 * claim was taken over (it stalled, another finished) changes nothing when it comes back.
 */
export const renderSceneJob =
  (services: Services): JobHandler<"video.scene"> =>
  async ({ jobId, index }, attempt) => {
    const { dataSource, pipeline, media } = services;
    const job = await dataSource.getRepository(VideoJobEntity).findOne({ where: { id: jobId } });
    if (job?.status !== "RENDERING") return;
    const token = randomBytes(8).toString("hex");
    const claimed = returnedRows<{ id: string }>(
      await dataSource.query(
        `UPDATE scene SET status = 'RUNNING', attempt_token = $3, attempts = attempts + 1, progress = 0,
                started_at = now(), updated_at = now()
          WHERE job_id = $1 AND index = $2 AND status IN ('PENDING', 'RUNNING') RETURNING id`,
        [jobId, index, token],
      ),
    );
    if (claimed.length === 0) return; // done, cancelled or failed already
    const scene = await dataSource.getRepository(SceneEntity).findOneByOrFail({ id: claimed[0]!.id });
    const log = services.logger.child({ jobId, sceneIndex: index, tenantId: job.tenantId });
    await appendJobEvent(dataSource, jobId, "SCENE_UPDATED", { index, status: "RUNNING", progress: 0 });

    const watcher = new PartWatcher(dataSource, jobId, async (fraction) => {
      const updated = returnedRows(
        await dataSource.query(
          "UPDATE scene SET progress = $3, updated_at = now() WHERE id = $1 AND attempt_token = $2 AND status = 'RUNNING' RETURNING id",
          [scene.id, token, fraction],
        ),
      );
      if (updated.length)
        await appendJobEvent(dataSource, jobId, "SCENE_UPDATED", {
          index,
          status: "RUNNING",
          progress: fraction,
        });
    }).start();
    let costUsd = 0;
    try {
      const size = OUTPUT_SIZE[job.options.aspectRatio as AspectRatio];
      const clip = await withTempDir(`propvid-scene-${jobId.slice(0, 8)}-${index}-`, async (dir) => {
        const first = await media.byId(job.tenantId, await assetMediaId(services, scene.firstAssetId));
        const last = await media.byId(job.tenantId, await assetMediaId(services, scene.lastAssetId));
        if (!first || !last) throw new AppError("BAD_USER_INPUT", "A photo of this scene was deleted");
        const firstPath = path.join(dir, "first");
        const lastPath = path.join(dir, "last");
        await Promise.all([
          media.toFile(first, firstPath, watcher.signal),
          last.id !== first.id ? media.toFile(last, lastPath, watcher.signal) : undefined,
        ]);
        const provider = pipeline.providers.video(job.options.videoProvider);
        const outFile = path.join(dir, "clip.mp4");
        const started = Date.now();
        // Remote providers fetch the photos themselves when they can reach us (15-minute tokens).
        const signed = services.config.publicBaseUrlConfigured
          ? {
              firstImageUrl: services.mediaUrl(job.tenantId, first.id, "provider", 900),
              lastImageUrl: services.mediaUrl(job.tenantId, last.id, "provider", 900),
            }
          : {};
        const rendered = await provider.render({
          firstImagePath: firstPath,
          lastImagePath: last.id === first.id ? firstPath : lastPath,
          cameraMove: (scene.cameraMove ?? "PUSH_IN") as CameraMove,
          prompt: scene.prompt ?? "",
          seconds: job.options.secondsPerScene,
          width: size.width,
          height: size.height,
          fps: FPS,
          outFile,
          workDir: dir,
          onProgress: watcher.report,
          signal: watcher.signal,
          ...signed,
          attemptToken: token,
          jobId,
          sceneIndex: index,
          providerRef: scene.providerRef,
          // Stored before the adapter waits, so a retry after a crash adopts it instead of paying twice.
          onProviderRef: async (ref) => {
            await dataSource.query(
              "UPDATE scene SET provider_ref = $3, updated_at = now() WHERE id = $1 AND attempt_token = $2 AND status = 'RUNNING'",
              [scene.id, token, ref],
            );
          },
        });
        costUsd = rendered.costUsd ?? 0;
        log.info({ ms: Date.now() - started, costUsd }, "scene rendered");
        return await media.store(job.tenantId, createReadStream(outFile), {
          contentType: "video/mp4",
          maxBytes: MAX_CLIP_BYTES,
        });
      });
      const stored = await dataSource.transaction(async (manager) => {
        const updated = returnedRows(
          await manager.query(
            `UPDATE scene SET status = 'SUCCEEDED', progress = 1, clip_media_id = $3, cost_usd = cost_usd + $4,
                    finished_at = now(), updated_at = now()
              WHERE id = $1 AND attempt_token = $2 AND status = 'RUNNING' RETURNING id`,
            [scene.id, token, clip.media.id, costUsd],
          ),
        );
        if (updated.length === 0) return false;
        if (costUsd > 0) {
          // The provider's actual charge replaces this scene's estimated VIDEO item in the job's cost.
          await pipeline.recordActualCost(manager, jobId, "VIDEO", index, costUsd);
        }
        await appendJobEvent(manager, jobId, "SCENE_UPDATED", { index, status: "SUCCEEDED", progress: 1 });
        await manager.query(
          `UPDATE video_job SET progress = 0.05 + 0.8 * (SELECT count(*) FILTER (WHERE status = 'SUCCEEDED')::real / count(*) FROM scene WHERE job_id = $1),
                  updated_at = now() WHERE id = $1`,
          [jobId],
        );
        return true;
      });
      // A superseded attempt (or a cancelled job) keeps nothing: drop the clip unless it is shared.
      const previous = scene.clipMediaId;
      if (!stored) await pipeline.releaseMedia([clip.media.id]);
      else if (previous && previous !== clip.media.id) await pipeline.releaseMedia([previous]);
      if (stored) await pipeline.maybeAssemble(jobId);
    } catch (error) {
      const cancelled = watcher.signal.aborted || (isAppError(error) && error.code === "CANCELLED");
      if (cancelled) return;
      const final =
        (isAppError(error) && !error.transient && error.code !== "TIMEOUT") ||
        isLastAttempt("video.scene", attempt.retryCount);
      const app = isAppError(error) ? error : new AppError("PROVIDER_FAILED", "Rendering failed");
      log.warn({ err: error, final }, "scene failed");
      await dataSource.transaction(async (manager) => {
        const updated = returnedRows(
          await manager.query(
            `UPDATE scene SET status = $3, error_code = $4, error = $5, updated_at = now()
              WHERE id = $1 AND attempt_token = $2 AND status = 'RUNNING' RETURNING id`,
            [scene.id, token, final ? "FAILED" : "PENDING", app.code, app.message],
          ),
        );
        if (updated.length) {
          await appendJobEvent(manager, jobId, "SCENE_UPDATED", {
            index,
            status: final ? "FAILED" : "PENDING",
            error: app.message,
          });
        }
        if (final) await pipeline.failJob(jobId, app.code, `Scene ${index + 1}: ${app.message}`, manager);
      });
      if (!final) throw error;
    } finally {
      watcher.stop();
    }
  };

async function assetMediaId(services: Services, assetId: string | null): Promise<string> {
  if (!assetId) return "";
  const [row] = await services.dataSource.query("SELECT media_id FROM asset WHERE id = $1", [assetId]);
  return row?.media_id ?? "";
}
