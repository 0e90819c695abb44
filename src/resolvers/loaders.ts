import DataLoader from "dataloader";
import type { Services } from "../container.js";
import type {
  AssetEntity,
  CampaignEntity,
  SceneEntity,
  TenantEntity,
  VideoJobEntity,
  VideoRenditionEntity,
} from "../db/entities/index.js";
import type { MediaRow } from "../media/media.store.js";
import type { Page, PageArgs } from "../services/pagination.js";
import type { WebhookAttempt } from "../webhooks/webhook-delivery-log.service.js";

/** Per-request DataLoaders, scoped to the caller's tenant: a list of 50 campaigns is a handful of queries. */
export interface Loaders {
  tenant: DataLoader<string, TenantEntity | null>;
  campaign: DataLoader<string, CampaignEntity | null>;
  asset: DataLoader<string, AssetEntity | null>;
  videoJob: DataLoader<string, VideoJobEntity | null>;
  scenesByJob: DataLoader<string, SceneEntity[]>;
  /** Media rows (size, type) behind media-backed fields such as `VideoJob.video`. */
  media: DataLoader<string, MediaRow | null>;
  /** A video media row's renditions, largest first. */
  renditionsBySource: DataLoader<string, VideoRenditionEntity[]>;
  assetPage: DataLoader<PagedKey, Page<string>, string>;
  videoJobPage: DataLoader<PagedKey, Page<string>, string>;
  /** The attempts of webhook deliveries (`WebhookDelivery.attemptLog`). */
  webhookAttempts: DataLoader<string, WebhookAttempt[]>;
}

export interface PagedKey extends PageArgs {
  parentId: string;
}

function byId<T extends { id: string }>(ids: readonly string[], rows: T[]): (T | null)[] {
  const map = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => map.get(id) ?? null);
}

/** Groups keys by their page arguments and runs one query per group. */
function pagedLoader(
  load: (parentIds: readonly string[], args: PageArgs) => Promise<Map<string, Page<string>>>,
): DataLoader<PagedKey, Page<string>, string> {
  return new DataLoader<PagedKey, Page<string>, string>(
    async (keys) => {
      const groups = new Map<string, PagedKey[]>();
      for (const key of keys) {
        const group = JSON.stringify([key.first ?? null, key.after ?? null]);
        groups.set(group, [...(groups.get(group) ?? []), key]);
      }
      const results = new Map<PagedKey, Page<string>>();
      for (const group of groups.values()) {
        const pages = await load(
          group.map((key) => key.parentId),
          { first: group[0]!.first, after: group[0]!.after },
        );
        for (const key of group)
          results.set(key, pages.get(key.parentId) ?? { nodes: [], hasNextPage: false });
      }
      return keys.map((key) => results.get(key)!);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.parentId, key.first ?? null, key.after ?? null]) },
  );
}

export function createLoaders(services: Services, tenantId: string): Loaders {
  return {
    tenant: new DataLoader(async (ids) => byId(ids, await services.tenants.byIds(ids))),
    campaign: new DataLoader(async (ids) => byId(ids, await services.campaigns.byIds(tenantId, ids))),
    asset: new DataLoader(async (ids) => byId(ids, await services.assets.byIds(tenantId, ids))),
    videoJob: new DataLoader(async (ids) => byId(ids, await services.videoJobs.byIds(tenantId, ids))),
    scenesByJob: new DataLoader(async (jobIds) => {
      const byJob = new Map<string, SceneEntity[]>(jobIds.map((jobId) => [jobId, []]));
      for (const scene of await services.videoJobs.scenesByJobIds(tenantId, jobIds))
        byJob.get(scene.jobId)?.push(scene);
      return jobIds.map((jobId) => byJob.get(jobId)!);
    }),
    media: new DataLoader(async (ids) => byId(ids, await services.media.byIds(tenantId, ids))),
    renditionsBySource: new DataLoader(async (sourceIds) => {
      const rows = await services.renditions.bySources(tenantId, sourceIds);
      return sourceIds.map((id) => rows.filter((row) => row.sourceMediaId === id));
    }),
    assetPage: pagedLoader((ids, args) => services.assets.pageIdsByCampaigns(tenantId, ids, args)),
    videoJobPage: pagedLoader((ids, args) => services.videoJobs.pageIdsByCampaigns(tenantId, ids, args)),
    webhookAttempts: new DataLoader(async (ids) => {
      const byDelivery = await services.webhookDeliveries.attemptsOf(tenantId, ids);
      return ids.map((id) => byDelivery.get(id) ?? []);
    }),
  };
}
