import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { AppError } from "../errors.js";
import type { Asset } from "../schema/asset.type.js";
import { AssetConnection } from "../schema/asset.type.js";
import {
  Campaign,
  CampaignConnection,
  CreateCampaignInput,
  UpdateCampaignInput,
} from "../schema/campaign.type.js";
import type { Connection } from "../schema/connection.type.js";
import { PageArgs } from "../schema/page-args.type.js";
import type { VideoJob } from "../schema/video-job.type.js";
import { VideoJobConnection } from "../schema/video-job.type.js";
import { loadPage, toConnection } from "./connection.js";
import { type GraphQLContext, tenantOf } from "./context.js";
import { toAsset, toCampaign, toVideoJob } from "./mappers.js";

@Resolver(() => Campaign)
export class CampaignResolver {
  @Query(() => Campaign, { description: "A campaign of the caller's tenant; NOT_FOUND otherwise." })
  async campaign(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<Campaign> {
    tenantOf(context);
    const campaign = await context.loaders.campaign.load(id);
    if (!campaign) throw notFound("Campaign");
    return toCampaign(campaign);
  }

  @Query(() => CampaignConnection, { description: "The tenant's campaigns, newest first." })
  async campaigns(@Args() args: PageArgs, @Ctx() context: GraphQLContext): Promise<Connection<Campaign>> {
    const tenantId = tenantOf(context);
    return toConnection(await context.services.campaigns.list(tenantId, args), toCampaign);
  }

  @Mutation(() => Campaign)
  async createCampaign(
    @Arg("input", () => CreateCampaignInput) input: CreateCampaignInput,
    @Ctx() context: GraphQLContext,
  ): Promise<Campaign> {
    const tenantId = tenantOf(context, "write");
    return toCampaign(await context.services.campaigns.create(tenantId, input));
  }

  @Mutation(() => Campaign)
  async updateCampaign(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateCampaignInput) input: UpdateCampaignInput,
    @Ctx() context: GraphQLContext,
  ): Promise<Campaign> {
    const tenantId = tenantOf(context, "write");
    return toCampaign(await context.services.campaigns.update(tenantId, id, input));
  }

  @Mutation(() => Boolean, { description: "Deletes the campaign with its photos, jobs and their media." })
  async deleteCampaign(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<boolean> {
    const tenantId = tenantOf(context, "write");
    return await context.services.campaigns.delete(tenantId, id);
  }

  @FieldResolver(() => AssetConnection, { description: "The campaign's photos, newest first." })
  async assets(
    @Root() campaign: Campaign,
    @Args() args: PageArgs,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<Asset>> {
    const ids = await context.loaders.assetPage.load({
      parentId: campaign.id,
      first: args.first,
      after: args.after,
    });
    const page = await loadPage(ids, (list) => context.loaders.asset.loadMany(list));
    return toConnection(page, toAsset);
  }

  @FieldResolver(() => VideoJobConnection, { description: "The campaign's video jobs, newest first." })
  async videoJobs(
    @Root() campaign: Campaign,
    @Args() args: PageArgs,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<VideoJob>> {
    const ids = await context.loaders.videoJobPage.load({
      parentId: campaign.id,
      first: args.first,
      after: args.after,
    });
    const page = await loadPage(ids, (list) => context.loaders.videoJob.loadMany(list));
    return toConnection(page, toVideoJob);
  }
}

export function notFound(what: string): AppError {
  return new AppError("NOT_FOUND", `${what} not found`);
}
