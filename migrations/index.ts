import { InitialSchema1764000000000 } from "./1764000000000-initial-schema.js";
import { ApiKeyRevocationNotify1765100000000 } from "./1765100000000-api-key-revocation-notify.js";
import { ListingVideo1765300000000 } from "./1765300000000-listing-video.js";
import { PartnerWebhooksAndBatches1765400000000 } from "./1765400000000-partner-webhooks-and-batches.js";
import { TenantQuotasUsage1765500000000 } from "./1765500000000-tenant-quotas-usage.js";
import { VideoRenditions1765600000000 } from "./1765600000000-video-renditions.js";
import { ShareLinks1765600000001 } from "./1765600000001-share-links.js";

/** Every migration, in order. TypeORM runs the ones not yet in `typeorm_migrations`. */
// biome-ignore lint/complexity/noBannedTypes: TypeORM takes migration classes as Function.
export const MIGRATIONS: Function[] = [
  InitialSchema1764000000000,
  ApiKeyRevocationNotify1765100000000,
  ListingVideo1765300000000,
  PartnerWebhooksAndBatches1765400000000,
  TenantQuotasUsage1765500000000,
  VideoRenditions1765600000000,
  ShareLinks1765600000001,
];
