import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { Campaign } from "../schema/campaign.type.js";
import { Cost, Scene, VideoJob } from "../schema/video-job.type.js";
import { notFound } from "./campaign.resolver.js";
import type { GraphQLContext } from "./context.js";
import { toCampaign, toCost, toScene } from "./mappers.js";

@Resolver(() => VideoJob)
export class VideoJobResolver {
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
