import path from "node:path";
import sharp from "sharp";
import type { Services } from "../container.js";
import { AssetEntity, SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import { returnedRows } from "../db/sql.js";
import { AppError, isAppError } from "../errors.js";
import { appendJobEvent } from "../events/job-events.js";
import { withTempDir } from "../media/ffmpeg.runner.js";
import { planScenes } from "../providers/local/scene-plan.js";
import type { AspectRatio, AssetFacts, MusicMood, QualityFlag, RoomType } from "../providers/types.js";
import { isLastAttempt, type JobHandler } from "./worker.js";

/** READY photos of a campaign as the facts a selector works from. */
export function assetFacts(assets: AssetEntity[]): AssetFacts[] {
  return assets
    .filter(
      (asset) => asset.status === "READY" && asset.width && asset.height && asset.quality && asset.dhash,
    )
    .map((asset) => ({
      id: asset.id,
      filename: asset.filename,
      width: asset.width!,
      height: asset.height!,
      userRoomType: (asset.roomType as RoomType | null) ?? null,
      roomTypeGuess: (asset.roomTypeGuess as RoomType | null) ?? "UNKNOWN",
      tags: asset.tags,
      sharpness: asset.quality!.sharpness,
      exposure: asset.quality!.exposure,
      colourfulness: asset.quality!.colourfulness,
      dhash: asset.dhash!,
      flags: asset.quality!.flags as QualityFlag[],
      meanColour: asset.quality!.meanColour as [number, number, number] | undefined,
      colourHistogram: asset.quality!.colourHistogram as number[] | undefined,
    }));
}

/**
 * video.plan: the selector picks a pair, a move and a prompt for every scene; then every scene
 * and the score are enqueued at once (fan-out). Idempotent: a retry after the plan was stored
 * only re-enqueues what has not started.
 */
export const planVideoJob =
  (services: Services): JobHandler<"video.plan"> =>
  async ({ jobId }, attempt) => {
    const { dataSource, pipeline } = services;
    const job = await dataSource.getRepository(VideoJobEntity).findOne({ where: { id: jobId } });
    if (!job || job.status === "CANCELLED" || job.status === "SUCCEEDED" || job.status === "FAILED") return;
    const log = services.logger.child({ jobId, tenantId: job.tenantId });

    if (job.status === "QUEUED" || job.status === "PLANNING") {
      await dataSource.transaction(async (manager) => {
        const moved = returnedRows(
          await manager.query(
            `UPDATE video_job SET status = 'PLANNING', stage = 'selecting', started_at = COALESCE(started_at, now()), updated_at = now()
              WHERE id = $1 AND status = 'QUEUED' RETURNING id`,
            [jobId],
          ),
        );
        if (moved.length)
          await appendJobEvent(manager, jobId, "JOB_UPDATED", { status: "PLANNING", stage: "selecting" });
      });
      try {
        const assets = await dataSource
          .getRepository(AssetEntity)
          .find({ where: { campaignId: job.campaignId, status: "READY" } });
        const facts = assetFacts(assets);
        if (facts.length === 0) throw new AppError("BAD_USER_INPUT", "The campaign has no READY photos");
        const plan = planScenes(job.options.sceneCount);
        const selector = pipelineSelector(services, job.options.selector);
        const result = await selector.select({
          assets: facts,
          plan,
          aspectRatio: job.options.aspectRatio as AspectRatio,
          mood: job.options.mood as MusicMood,
          imageUrl: (assetId) => selectorImageUrl(services, job.tenantId, assets, assetId),
        });
        await dataSource.transaction(async (manager) => {
          const [row] = returnedRows<{ status: string }>(
            await manager.query("SELECT status FROM video_job WHERE id = $1 FOR UPDATE", [jobId]),
          );
          if (row?.status !== "PLANNING") return;
          const repository = manager.getRepository(SceneEntity);
          for (const pick of result.picks) {
            await repository
              .createQueryBuilder()
              .insert()
              .values({
                jobId,
                tenantId: job.tenantId,
                index: pick.index,
                sceneType: pick.sceneType,
                firstAssetId: pick.firstAssetId,
                lastAssetId: pick.lastAssetId,
                cameraMove: pick.cameraMove,
                prompt: pick.prompt,
                provider: job.options.videoProvider,
                confidence: pick.confidence,
                reasoning: pick.reasoning,
                status: "PENDING",
              })
              .orIgnore()
              .execute();
          }
          await manager.query(
            "UPDATE video_job SET status = 'RENDERING', stage = 'rendering', progress = 0.05, updated_at = now() WHERE id = $1",
            [jobId],
          );
          if (result.costUsd) {
            // The selector's actual charge replaces its estimated SELECTION item in the job's cost.
            await manager.query(
              `UPDATE video_job SET cost = (
                  SELECT COALESCE(jsonb_agg(CASE WHEN item->>'kind' = 'SELECTION'
                                            THEN item || jsonb_build_object('usd', $2::numeric, 'actual', true) ELSE item END ORDER BY ord), '[]'::jsonb)
                    FROM jsonb_array_elements(CASE WHEN jsonb_array_length(cost) > 0 THEN cost ELSE estimated_cost END) WITH ORDINALITY AS t(item, ord))
                WHERE id = $1`,
              [jobId, result.costUsd],
            );
          }
          await appendJobEvent(manager, jobId, "JOB_UPDATED", {
            status: "RENDERING",
            stage: "rendering",
            scenes: result.picks.length,
            selectorNote: result.note ?? null,
          });
        });
        log.info({ scenes: result.picks.length }, "video planned");
      } catch (error) {
        if (isAppError(error) && !error.transient) {
          await pipeline.failJob(jobId, error.code, error.message);
          return;
        }
        if (isLastAttempt("video.plan", attempt.retryCount)) {
          await pipeline.failJob(jobId, "INTERNAL_SERVER_ERROR", "Planning failed");
          return;
        }
        throw error;
      }
    }

    // Fan-out: every scene not yet done, and the score, all at once.
    const scenes: { index: number; status: string }[] = await dataSource.query(
      "SELECT index, status FROM scene WHERE job_id = $1 ORDER BY index",
      [jobId],
    );
    for (const scene of scenes)
      if (scene.status === "PENDING") await pipeline.enqueueScene(jobId, scene.index);
    const [current] = await dataSource.query("SELECT score_status FROM video_job WHERE id = $1", [jobId]);
    if (current?.score_status === "PENDING") {
      await services.boss.send("video.score", { jobId }, { singletonKey: `${jobId}:score` });
    }
  };

function pipelineSelector(services: Services, name: string) {
  return services.pipeline.providers.selector(name);
}

/**
 * A photo for a vision selector: a 15-minute signed URL when the provider can reach us, else a
 * small JPEG thumbnail as a data URI.
 */
async function selectorImageUrl(
  services: Services,
  tenantId: string,
  assets: AssetEntity[],
  assetId: string,
): Promise<string> {
  const asset = assets.find((candidate) => candidate.id === assetId);
  if (!asset?.mediaId) throw new AppError("NOT_FOUND", "Photo not found");
  if (services.config.publicBaseUrlConfigured)
    return services.mediaUrl(tenantId, asset.mediaId, "provider", 900);
  const media = await services.media.byId(tenantId, asset.mediaId);
  if (!media) throw new AppError("NOT_FOUND", "Photo not found");
  return await withTempDir("propvid-thumb", async (dir) => {
    const file = path.join(dir, "photo");
    await services.media.toFile(media, file);
    const jpeg = await sharp(file)
      .rotate()
      .resize({ width: 512, height: 512, fit: "inside" })
      .jpeg({ quality: 80 })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString("base64")}`;
  });
}
