import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { ShareLinkEntity } from "../db/entities/index.js";
import type { ShareVariant } from "../delivery/share-link.service.js";
import { CreateShareLinkInput, ShareLink } from "../schema/share-link.type.js";
import { type GraphQLContext, tenantOf } from "./context.js";

const toShareLink = (link: ShareLinkEntity, publicBaseUrl: string): ShareLink => ({
  id: link.id,
  url: `${publicBaseUrl}/s/${link.slug}`,
  variant: link.variant as ShareVariant,
  expiresAt: link.expiresAt,
  revokedAt: link.revokedAt,
  createdAt: link.createdAt,
  views: link.views,
  watchSeconds: link.watchSeconds,
});

@Resolver(() => ShareLink)
export class ShareLinkResolver {
  @Mutation(() => ShareLink, {
    description: "A public share page for a SUCCEEDED job's video; another tenant's job is NOT_FOUND.",
  })
  async createShareLink(
    @Arg("input", () => CreateShareLinkInput) input: CreateShareLinkInput,
    @Ctx() context: GraphQLContext,
  ): Promise<ShareLink> {
    const tenantId = tenantOf(context, "write");
    const link = await context.services.shareLinks.create(tenantId, input);
    return toShareLink(link, context.services.config.publicBaseUrl);
  }

  @Query(() => [ShareLink], {
    description: "A job's share links, newest first (revoked and expired ones too).",
  })
  async shareLinks(
    @Arg("videoJobId", () => ID) videoJobId: string,
    @Ctx() context: GraphQLContext,
  ): Promise<ShareLink[]> {
    const tenantId = tenantOf(context);
    const links = await context.services.shareLinks.list(tenantId, videoJobId);
    return links.map((link) => toShareLink(link, context.services.config.publicBaseUrl));
  }

  @Mutation(() => ShareLink, { description: "The page answers 410 Gone from now on; idempotent." })
  async revokeShareLink(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<ShareLink> {
    const tenantId = tenantOf(context, "write");
    return toShareLink(
      await context.services.shareLinks.revoke(tenantId, id),
      context.services.config.publicBaseUrl,
    );
  }
}
