import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { VideoJobEntity } from "../db/entities/index.js";
import { hlsMasterUrl } from "../delivery/delivery-urls.js";
import { videoDownloadName } from "../delivery/download-name.js";
import type { MediaRow } from "../media/media.store.js";
import { Asset } from "../schema/asset.type.js";
import { Campaign } from "../schema/campaign.type.js";
import {
  Cost,
  CreateVideoJobInput,
  RetrySceneInput,
  Scene,
  Video,
  VideoJob,
} from "../schema/video-job.type.js";
import { notFound } from "./campaign.resolver.js";
import { type GraphQLContext, tenantOf } from "./context.js";
import { toAsset, toCampaign, toCost, toScene, toVideoJob } from "./mappers.js";

@Resolver(() => VideoJob)
export class VideoJobResolver {
  @Query(() => VideoJob, { description: "A video job of the caller's tenant; NOT_FOUND otherwise." })
  async videoJob(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<VideoJob> {
    tenantOf(context);
    const job = await context.loaders.videoJob.load(id);
    if (!job) throw notFound("Video job");
    return toVideoJob(job);
  }

  @Query(() => Cost, { description: "What a job with this input would cost, itemised, before creating it." })
  async estimateVideoCost(
    @Arg("input", () => CreateVideoJobInput) input: CreateVideoJobInput,
    @Ctx() context: GraphQLContext,
  ): Promise<Cost> {
    const tenantId = tenantOf(context);
    return toCost(await context.services.pipeline.estimate(tenantId, input));
  }

  @Mutation(() => VideoJob, {
    description:
      "Starts making a video. The same idempotencyKey with the same input returns the same job; with another input, CONFLICT.",
  })
  async createVideoJob(
    @Arg("input", () => CreateVideoJobInput) input: CreateVideoJobInput,
    @Arg("idempotencyKey", () => String, { nullable: true }) idempotencyKey: string | null,
    @Ctx() context: GraphQLContext,
  ): Promise<VideoJob> {
    const tenantId = tenantOf(context, "write");
    return toVideoJob(await context.services.pipeline.create(tenantId, input, idempotencyKey));
  }

  @Mutation(() => VideoJob, { description: "Cancels a running job: renders stop, nothing more is stored." })
  async cancelVideoJob(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<VideoJob> {
    const tenantId = tenantOf(context, "write");
    return toVideoJob(await context.services.pipeline.cancel(tenantId, id));
  }

  @Mutation(() => VideoJob, {
    description: "Re-renders one scene of a finished job (optionally another pair or move) and re-assembles.",
  })
  async retryScene(
    @Arg("jobId", () => ID) jobId: string,
    @Arg("index", () => Int) index: number,
    @Arg("input", () => RetrySceneInput, { nullable: true }) input: RetrySceneInput | null,
    @Ctx() context: GraphQLContext,
  ): Promise<VideoJob> {
    const tenantId = tenantOf(context, "write");
    return toVideoJob(await context.services.pipeline.retryScene(tenantId, jobId, index, input ?? {}));
  }

  @FieldResolver(() => [Scene], { description: "The job's scenes in order (empty until planned)." })
  async scenes(@Root() job: VideoJob, @Ctx() context: GraphQLContext): Promise<Scene[]> {
    return (await context.loaders.scenesByJob.load(job.id)).map(toScene);
  }

  @FieldResolver(() => Campaign)
  async campaign(@Root() job: VideoJob, @Ctx() context: GraphQLContext): Promise<Campaign> {
    const campaign = await context.loaders.campaign.load(job.campaignId);
    if (!campaign) throw notFound("Campaign");
    return toCampaign(campaign);
  }

  @FieldResolver(() => Video, {
    nullable: true,
    description: "The finished (branded) video, once the job SUCCEEDED.",
  })
  async video(@Root() job: VideoJob, @Ctx() context: GraphQLContext): Promise<Video | null> {
    const entity = await context.loaders.videoJob.load(job.id);
    return entity
      ? await toVideo(context, entity, entity.videoMediaId, entity.captionsMediaId, "BRANDED")
      : null;
  }

  @FieldResolver(() => Video, {
    nullable: true,
    description:
      "The MLS-safe cut: the same clips with no agent, brokerage, contact, logo or QR code. Null for plain jobs.",
  })
  async unbrandedVideo(@Root() job: VideoJob, @Ctx() context: GraphQLContext): Promise<Video | null> {
    const entity = await context.loaders.videoJob.load(job.id);
    return entity
      ? await toVideo(
          context,
          entity,
          entity.unbrandedVideoMediaId,
          entity.unbrandedCaptionsMediaId,
          "UNBRANDED",
        )
      : null;
  }

  @FieldResolver(() => Cost, { description: "What the job has cost so far, itemised." })
  async cost(@Root() job: VideoJob, @Ctx() context: GraphQLContext): Promise<Cost> {
    const entity = await context.loaders.videoJob.load(job.id);
    return toCost(entity?.cost ?? []);
  }

  @FieldResolver(() => Cost, { description: "What the job was estimated to cost when it was created." })
  async estimatedCost(@Root() job: VideoJob, @Ctx() context: GraphQLContext): Promise<Cost> {
    const entity = await context.loaders.videoJob.load(job.id);
    return toCost(entity?.estimatedCost ?? []);
  }
}

@Resolver(() => Scene)
export class SceneResolver {
  @FieldResolver(() => Asset, { nullable: true })
  async firstAsset(@Root() scene: Scene, @Ctx() context: GraphQLContext): Promise<Asset | null> {
    const asset = scene.firstAssetId ? await context.loaders.asset.load(scene.firstAssetId) : null;
    return asset ? toAsset(asset) : null;
  }

  @FieldResolver(() => Asset, { nullable: true })
  async lastAsset(@Root() scene: Scene, @Ctx() context: GraphQLContext): Promise<Asset | null> {
    const asset = scene.lastAssetId ? await context.loaders.asset.load(scene.lastAssetId) : null;
    return asset ? toAsset(asset) : null;
  }

  @FieldResolver(() => String, { nullable: true, description: "Signed URL of the scene's clip (1 hour)." })
  clipUrl(@Root() scene: Scene, @Ctx() context: GraphQLContext): string | null {
    return scene.clipMediaId
      ? context.services.mediaUrl(context.principal.tenantId, scene.clipMediaId)
      : null;
  }
}

/** One cut of a finished job as the API shows it; the poster, size and disclosure are the job's. */
async function toVideo(
  context: GraphQLContext,
  entity: VideoJobEntity,
  videoMediaId: string | null,
  captionsMediaId: string | null,
  variant: "BRANDED" | "UNBRANDED",
): Promise<Video | null> {
  if (!videoMediaId) return null;
  const [media, campaign, renditions] = await Promise.all([
    context.loaders.media.load(videoMediaId),
    context.loaders.campaign.load(entity.campaignId),
    context.loaders.renditionsBySource.load(videoMediaId),
  ]);
  if (!media || !campaign) return null;
  const source = { options: entity.options, campaign };
  const filename = videoDownloadName(source, { variant });
  const { mediaUrl, tokens, config } = context.services;
  const url = (mediaId: string | null) => (mediaId ? mediaUrl(entity.tenantId, mediaId) : null);
  const renditionMedia = await context.loaders.media.loadMany(
    renditions.map((rendition) => rendition.mediaId),
  );
  return {
    renditions: renditions.map((rendition, i) => ({
      label: rendition.label,
      width: rendition.width,
      height: rendition.height,
      bitrate: rendition.averageBandwidth,
      url: mediaUrl(
        entity.tenantId,
        rendition.mediaId,
        "view",
        undefined,
        videoDownloadName(source, { variant, label: rendition.label }),
      ),
      byteSize: (renditionMedia[i] as MediaRow | null)?.byteSize ?? 0,
    })),
    hlsUrl:
      renditions.length === 0
        ? null
        : hlsMasterUrl(
            { tokens, publicBaseUrl: config.publicBaseUrl },
            { tenantId: entity.tenantId, mediaId: media.id, purpose: "view" },
          ),
    url: mediaUrl(entity.tenantId, media.id, "view", undefined, filename),
    downloadUrl: `${mediaUrl(entity.tenantId, media.id, "download", undefined, filename)}&download=1`,
    posterUrl: url(entity.posterMediaId),
    durationSeconds: entity.durationSeconds ?? 0,
    width: entity.width ?? 0,
    height: entity.height ?? 0,
    byteSize: media.byteSize,
    contentType: media.contentType,
    aiDisclosure: entity.aiDisclosure,
    captionsUrl: url(captionsMediaId),
  };
}
