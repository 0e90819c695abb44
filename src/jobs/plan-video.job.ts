import path from "node:path";
import type { AssetEntity } from "../db/entities/index.js";
import { isTerminalJobStatus } from "../db/entities/video-job.entity.js";
import type { AspectRatio, MusicMood, QualityFlag, RoomType } from "../domain/vocabulary.js";
import { AppError } from "../errors.js";
import { withTempDir } from "../media/ffmpeg.runner.js";
import sharp from "../media/sharp.js";
import { planScenes } from "../providers/local/scene-plan.js";
import type { AssetFacts } from "../providers/types.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import type { JobHandler } from "./worker.js";

/** READY photos of a campaign as the facts a selector works from. */
export function assetFacts(assets: AssetEntity[]): AssetFacts[] {
  return assets
    .filter(
      (asset) =>
        asset.status === "READY" &&
        asset.purpose === "PHOTO" &&
        asset.width &&
        asset.height &&
        asset.quality &&
        asset.dhash,
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

export type PlanVideoDeps = Pick<
  PipelineDeps,
  "jobs" | "assets" | "providers" | "media" | "config" | "mediaUrl" | "logger"
>;

/**
 * video.plan: the selector picks a pair, a move and a prompt for every scene; then every scene
 * and the score are enqueued at once (fan-out). Idempotent: a retry after the plan was stored
 * only re-enqueues what has not started.
 */
export const planVideoJob =
  (deps: PlanVideoDeps): JobHandler<"video.plan"> =>
  async ({ jobId }, run) => {
    const job = await deps.jobs.load(jobId);
    if (!job || isTerminalJobStatus(job.status)) return;
    if (job.status === "QUEUED" || job.status === "PLANNING") {
      run.onFailure((failure) => deps.jobs.stepFailed(jobId, failure), {
        code: "INTERNAL_SERVER_ERROR",
        message: "Planning failed",
      });
      await deps.jobs.startPlanning(jobId);
      const assets = await deps.assets.readyOfCampaign(job.tenantId, job.campaignId);
      const facts = assetFacts(assets);
      if (facts.length === 0) throw new AppError("BAD_USER_INPUT", "The campaign has no READY photos");
      const result = await deps.providers.selector(job.options.selector).select({
        assets: facts,
        plan: planScenes(job.options.sceneCount),
        aspectRatio: job.options.aspectRatio as AspectRatio,
        mood: job.options.mood as MusicMood,
        imageUrl: (assetId) => selectorImageUrl(deps, job.tenantId, assets, assetId),
      });
      if (await deps.jobs.storePlan(jobId, result))
        deps.logger.info({ jobId, tenantId: job.tenantId, scenes: result.picks.length }, "video planned");
    }
    await deps.jobs.fanOut(jobId);
  };

/**
 * A photo for a vision selector: a 15-minute signed URL when the provider can reach us, else a
 * small JPEG thumbnail as a data URI.
 */
async function selectorImageUrl(
  deps: PlanVideoDeps,
  tenantId: string,
  assets: AssetEntity[],
  assetId: string,
): Promise<string> {
  const asset = assets.find((candidate) => candidate.id === assetId);
  if (!asset?.mediaId) throw new AppError("NOT_FOUND", "Photo not found");
  if (deps.config.publicBaseUrlConfigured) return deps.mediaUrl(tenantId, asset.mediaId, "provider", 900);
  const media = await deps.media.byId(tenantId, asset.mediaId);
  if (!media) throw new AppError("NOT_FOUND", "Photo not found");
  return await withTempDir("propvid-thumb", async (dir) => {
    const file = path.join(dir, "photo");
    await deps.media.toFile(media, file);
    const jpeg = await sharp(file)
      .rotate()
      .resize({ width: 512, height: 512, fit: "inside" })
      .jpeg({ quality: 80 })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString("base64")}`;
  });
}
