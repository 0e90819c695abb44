import type {
  ApiKeyEntity,
  AssetEntity,
  AssetImportEntity,
  CampaignEntity,
  SceneEntity,
  TenantEntity,
  VideoJobEntity,
} from "../db/entities/index.js";
import type { CostItemColumns } from "../db/entities/video-job.entity.js";
import type {
  ApiKeyScope,
  AspectRatio,
  CameraMove,
  MusicMood,
  QualityFlag,
  RoomType,
  SceneType,
} from "../domain/vocabulary.js";
import type { VideoTemplate } from "../render/listing-format.js";
import type { ApiKey } from "../schema/api-key.type.js";
import type { Asset, AssetImport } from "../schema/asset.type.js";
import type { Campaign } from "../schema/campaign.type.js";
import type { Tenant } from "../schema/tenant.type.js";
import type { Cost, Scene, VideoJob } from "../schema/video-job.type.js";

/** Entity → GraphQL shape. Pure; resolvers stay thin. */

const num = (value: string | null): number | null => (value === null ? null : Number(value));

export function toTenant(entity: TenantEntity): Tenant {
  return {
    id: entity.id,
    name: entity.name,
    aiDisclosureText: entity.aiDisclosureText,
    createdAt: entity.createdAt,
  };
}

export function toApiKey(entity: ApiKeyEntity): ApiKey {
  return {
    id: entity.id,
    prefix: entity.prefix,
    name: entity.name,
    scopes: entity.scopes as ApiKeyScope[],
    createdAt: entity.createdAt,
    lastUsedAt: entity.lastUsedAt,
    revokedAt: entity.revokedAt,
  };
}

export function toCampaign(entity: CampaignEntity): Campaign {
  return {
    id: entity.id,
    name: entity.name,
    address: entity.address,
    price: num(entity.price),
    currency: entity.currency,
    bedrooms: entity.bedrooms,
    bathrooms: num(entity.bathrooms),
    areaSqft: entity.areaSqft,
    description: entity.description,
    brand: {
      primaryColor: entity.brand.primaryColor ?? null,
      secondaryColor: entity.brand.secondaryColor ?? null,
      tone: entity.brand.tone ?? null,
      logoAssetId: entity.brand.logoAssetId ?? null,
    },
    musicMood: entity.musicMood as MusicMood | null,
    listingUrl: entity.listingUrl,
    agent: entity.agent
      ? {
          name: entity.agent.name,
          phone: entity.agent.phone ?? null,
          email: entity.agent.email ?? null,
          brokerage: entity.agent.brokerage ?? null,
          licenseNumber: entity.agent.licenseNumber ?? null,
          photoAssetId: entity.agent.photoAssetId ?? null,
        }
      : null,
    locale: entity.locale,
    timeZone: entity.timeZone,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
  };
}

export function toAsset(entity: AssetEntity): Asset {
  return {
    tenantId: entity.tenantId,
    campaignId: entity.campaignId,
    mediaId: entity.mediaId,
    thumbnailMediaId: entity.thumbnailMediaId,
    id: entity.id,
    filename: entity.filename,
    status: entity.status,
    purpose: entity.purpose,
    rejectionReason: entity.rejectionReason,
    contentType: entity.contentType,
    byteSize: num(entity.byteSize),
    width: entity.width,
    height: entity.height,
    roomType: (entity.roomType ?? entity.roomTypeGuess) as RoomType | null,
    roomTypeGuess: entity.roomTypeGuess as RoomType | null,
    tags: entity.tags,
    altText: entity.altText,
    quality: entity.quality
      ? {
          sharpness: entity.quality.sharpness,
          exposure: entity.quality.exposure,
          colourfulness: entity.quality.colourfulness,
          flags: entity.quality.flags as QualityFlag[],
        }
      : null,
    duplicateOfAssetId: entity.duplicateOfAssetId,
    sourceUrl: entity.sourceUrl,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
  };
}

export function toAssetImport(entity: AssetImportEntity): AssetImport {
  return {
    id: entity.id,
    kind: entity.kind,
    status: entity.status,
    pageUrl: entity.pageUrl,
    error: entity.error,
    createdAt: entity.createdAt,
    finishedAt: entity.finishedAt,
    results: entity.results.map((result) => ({
      url: result.url,
      status: result.status,
      assetId: result.assetId ?? null,
      errorCode: result.errorCode ?? null,
      error: result.error ?? null,
      altText: result.altText ?? null,
    })),
  };
}

export function toVideoJob(entity: VideoJobEntity): VideoJob {
  return {
    id: entity.id,
    campaignId: entity.campaignId,
    tenantId: entity.tenantId,
    status: entity.status,
    stage: entity.stage,
    progress: entity.progress,
    error: entity.error,
    errorCode: entity.errorCode,
    sceneCount: entity.options.sceneCount,
    secondsPerScene: entity.options.secondsPerScene,
    aspectRatio: entity.options.aspectRatio as AspectRatio,
    mood: entity.options.mood as MusicMood,
    selector: entity.options.selector,
    videoProvider: entity.options.videoProvider,
    musicProvider: entity.options.musicProvider,
    template: (entity.options.overlays
      ? (entity.options.template ?? "JUST_LISTED")
      : null) as VideoTemplate | null,
    captions: entity.options.overlays === true && entity.options.captions !== false,
    openHouse: entity.options.openHouse
      ? {
          startsAt: new Date(entity.options.openHouse.startsAt),
          endsAt: new Date(entity.options.openHouse.endsAt),
        }
      : null,
    previousPrice: entity.options.previousPrice ?? null,
    createdAt: entity.createdAt,
    startedAt: entity.startedAt,
    finishedAt: entity.finishedAt,
  };
}

export function toScene(entity: SceneEntity): Scene {
  return {
    jobId: entity.jobId,
    firstAssetId: entity.firstAssetId,
    lastAssetId: entity.lastAssetId,
    clipMediaId: entity.clipMediaId,
    index: entity.index,
    sceneType: entity.sceneType as SceneType,
    status: entity.status,
    progress: entity.progress,
    error: entity.error,
    errorCode: entity.errorCode,
    cameraMove: entity.cameraMove as CameraMove | null,
    prompt: entity.prompt,
    provider: entity.provider,
    confidence: entity.confidence,
    reasoning: entity.reasoning,
    attempts: entity.attempts,
  };
}

export function toCost(items: CostItemColumns[]): Cost {
  const totalUsd = Math.round(items.reduce((sum, item) => sum + item.usd, 0) * 10_000) / 10_000;
  return {
    totalUsd,
    items: items.map((item) => ({
      kind: item.kind,
      sceneIndex: item.sceneIndex,
      provider: item.provider,
      units: item.units,
      unit: item.unit,
      unitPriceUsd: item.unitPriceUsd,
      usd: item.usd,
    })),
  };
}
