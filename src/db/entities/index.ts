import { ApiKeyEntity } from "./api-key.entity.js";
import { AssetEntity } from "./asset.entity.js";
import { AssetImportEntity } from "./asset-import.entity.js";
import { CampaignEntity } from "./campaign.entity.js";
import { JobEventEntity } from "./job-event.entity.js";
import { MediaEntity } from "./media.entity.js";
import { SceneEntity } from "./scene.entity.js";
import { ShareLinkEntity } from "./share-link.entity.js";
import { TenantEntity } from "./tenant.entity.js";
import { VideoJobEntity } from "./video-job.entity.js";
import { VideoRenditionEntity } from "./video-rendition.entity.js";
import { WebhookDeliveryEntity } from "./webhook-delivery.entity.js";

export {
  ApiKeyEntity,
  AssetEntity,
  AssetImportEntity,
  CampaignEntity,
  JobEventEntity,
  MediaEntity,
  SceneEntity,
  ShareLinkEntity,
  TenantEntity,
  VideoJobEntity,
  VideoRenditionEntity,
  WebhookDeliveryEntity,
};

export const ENTITIES = [
  TenantEntity,
  ApiKeyEntity,
  CampaignEntity,
  MediaEntity,
  AssetEntity,
  AssetImportEntity,
  VideoJobEntity,
  SceneEntity,
  JobEventEntity,
  WebhookDeliveryEntity,
  VideoRenditionEntity,
  ShareLinkEntity,
];
