import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import {
  Asset,
  AssetImport,
  AssetImportResult,
  AssetUpload,
  CreateAssetUploadInput,
  UpdateAssetInput,
} from "../schema/asset.type.js";
import { notFound } from "./campaign.resolver.js";
import { type GraphQLContext, tenantOf } from "./context.js";
import { toAsset, toAssetImport } from "./mappers.js";

@Resolver(() => Asset)
export class AssetResolver {
  @Query(() => Asset, { description: "A photo of the caller's tenant; NOT_FOUND otherwise." })
  async asset(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<Asset> {
    tenantOf(context);
    const asset = await context.loaders.asset.load(id);
    if (!asset) throw notFound("Asset");
    return toAsset(asset);
  }

  @Mutation(() => AssetUpload, {
    description: "Creates a pending photo and a signed URL to PUT its bytes to.",
  })
  async createAssetUpload(
    @Arg("input", () => CreateAssetUploadInput) input: CreateAssetUploadInput,
    @Ctx() context: GraphQLContext,
  ): Promise<AssetUpload> {
    const tenantId = tenantOf(context, "write");
    const created = await context.services.uploads.createUpload(tenantId, input);
    return { uploadUrl: created.uploadUrl, expiresAt: created.expiresAt, asset: toAsset(created.asset) };
  }

  @Mutation(() => Asset, { description: "Sets the room type (overriding the guess) or the tags." })
  async updateAsset(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateAssetInput) input: UpdateAssetInput,
    @Ctx() context: GraphQLContext,
  ): Promise<Asset> {
    const tenantId = tenantOf(context, "write");
    return toAsset(await context.services.assets.update(tenantId, id, input));
  }

  @Mutation(() => Boolean, { description: "Deletes the photo (and its bytes when nothing else uses them)." })
  async deleteAsset(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<boolean> {
    const tenantId = tenantOf(context, "write");
    return await context.services.assets.delete(tenantId, id);
  }

  @Mutation(() => AssetImport, {
    description: "Imports photos from URLs in the background; see `assetImport`.",
  })
  async importAssets(
    @Arg("campaignId", () => ID) campaignId: string,
    @Arg("urls", () => [String]) urls: string[],
    @Ctx() context: GraphQLContext,
  ): Promise<AssetImport> {
    const tenantId = tenantOf(context, "write");
    return toAssetImport(await context.services.imports.importUrls(tenantId, campaignId, urls));
  }

  @Mutation(() => AssetImport, {
    description: "Imports the photos of a listing web page (with their alt texts).",
  })
  async importListing(
    @Arg("campaignId", () => ID) campaignId: string,
    @Arg("pageUrl") pageUrl: string,
    @Ctx() context: GraphQLContext,
  ): Promise<AssetImport> {
    const tenantId = tenantOf(context, "write");
    return toAssetImport(await context.services.imports.importListing(tenantId, campaignId, pageUrl));
  }

  @Query(() => AssetImport, { description: "An import and its per-URL results." })
  async assetImport(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<AssetImport> {
    const tenantId = tenantOf(context);
    const row = await context.services.imports.byId(tenantId, id);
    if (!row) throw notFound("Import");
    return toAssetImport(row);
  }

  @FieldResolver(() => String, { nullable: true, description: "Signed URL of the original (1 hour)." })
  url(@Root() asset: Asset, @Ctx() context: GraphQLContext): string | null {
    return asset.mediaId ? context.services.mediaUrl(asset.tenantId, asset.mediaId) : null;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: "Signed URL of a 512 px JPEG thumbnail (1 hour).",
  })
  thumbnailUrl(@Root() asset: Asset, @Ctx() context: GraphQLContext): string | null {
    return asset.thumbnailMediaId ? context.services.mediaUrl(asset.tenantId, asset.thumbnailMediaId) : null;
  }
}

@Resolver(() => AssetImportResult)
export class AssetImportResultResolver {
  @FieldResolver(() => Asset, { nullable: true })
  async asset(@Root() result: AssetImportResult, @Ctx() context: GraphQLContext): Promise<Asset | null> {
    if (!result.assetId) return null;
    const asset = await context.loaders.asset.load(result.assetId);
    return asset ? toAsset(asset) : null;
  }
}
