import { ApiKeyEntity } from "./api-key.entity.js";
import { AssetEntity } from "./asset.entity.js";
import { AssetImportEntity } from "./asset-import.entity.js";
import { CampaignEntity } from "./campaign.entity.js";
import { JobEventEntity } from "./job-event.entity.js";
import { MediaEntity } from "./media.entity.js";
import { SceneEntity } from "./scene.entity.js";
import { ShareLinkEntity } from "./share-link.entity.js";
import { TenantEntity } from "./tenant.entity.js";
import { TenantQuotaEntity } from "./tenant-quota.entity.js";
import { TenantStorageEntity } from "./tenant-storage.entity.js";
import { UsageEventEntity } from "./usage-event.entity.js";
import { VideoJobEntity } from "./video-job.entity.js";
import { VideoJobBatchEntity } from "./video-job-batch.entity.js";
import { VideoJobBatchItemEntity } from "./video-job-batch-item.entity.js";
import { VideoRenditionEntity } from "./video-rendition.entity.js";
import { WebhookAttemptEntity } from "./webhook-attempt.entity.js";
import { WebhookDeliveryEntity } from "./webhook-delivery.entity.js";
import { WebhookEndpointEntity } from "./webhook-endpoint.entity.js";
import { WebhookMessageEntity } from "./webhook-message.entity.js";

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
  TenantQuotaEntity,
  TenantStorageEntity,
  UsageEventEntity,
  VideoJobBatchEntity,
  VideoJobBatchItemEntity,
  VideoJobEntity,
  VideoRenditionEntity,
  WebhookAttemptEntity,
  WebhookDeliveryEntity,
  WebhookEndpointEntity,
  WebhookMessageEntity,
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
  VideoJobBatchEntity,
  VideoJobBatchItemEntity,
  WebhookEndpointEntity,
  WebhookMessageEntity,
  WebhookAttemptEntity,
  TenantQuotaEntity,
  TenantStorageEntity,
  UsageEventEntity,
  VideoRenditionEntity,
  ShareLinkEntity,
];
