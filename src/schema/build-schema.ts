import "reflect-metadata";
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { buildSchema as buildTypeGraphQLSchema, type PubSub } from "type-graphql";
import { ApiKeyResolver } from "../resolvers/api-key.resolver.js";
import { AssetImportResultResolver, AssetResolver } from "../resolvers/asset.resolver.js";
import { CampaignResolver } from "../resolvers/campaign.resolver.js";
import { ProviderResolver } from "../resolvers/provider.resolver.js";
import { ShareLinkResolver } from "../resolvers/share-link.resolver.js";
import { SubscriptionResolver } from "../resolvers/subscription.resolver.js";
import { TenantResolver } from "../resolvers/tenant.resolver.js";
import { UsageResolver } from "../resolvers/usage.resolver.js";
import { SceneResolver, VideoJobResolver } from "../resolvers/video-job.resolver.js";
import { VideoJobBatchResolver } from "../resolvers/video-job-batch.resolver.js";
import { ViewerResolver } from "../resolvers/viewer.resolver.js";
import { WebhookDeliveryResolver, WebhookEndpointResolver } from "../resolvers/webhook.resolver.js";

/** Resolvers of the whole API, one per GraphQL type. */
export const RESOLVERS = [
  ViewerResolver,
  ApiKeyResolver,
  CampaignResolver,
  AssetResolver,
  AssetImportResultResolver,
  VideoJobResolver,
  SceneResolver,
  SubscriptionResolver,
  ProviderResolver,
  WebhookEndpointResolver,
  WebhookDeliveryResolver,
  VideoJobBatchResolver,
  TenantResolver,
  UsageResolver,
  ShareLinkResolver,
] as const;

/** type-graphql wants a pubSub even when subscriptions bring their own `subscribe`; ours never publishes through it. */
const unusedPubSub: PubSub = {
  publish() {},
  subscribe() {
    throw new Error("subscriptions use their own subscribe functions");
  },
};

export async function buildSchema(): Promise<GraphQLSchema> {
  return await buildTypeGraphQLSchema({
    resolvers: [...RESOLVERS],
    validate: { forbidUnknownValues: false },
    pubSub: unusedPubSub,
  });
}

/** The SDL committed as `schema.graphql`; sorted so the file diffs cleanly. */
export function printSdl(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
