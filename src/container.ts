import type { DataSource } from "typeorm";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import { ApiKeyService } from "./services/api-key.service.js";
import { AssetService } from "./services/asset.service.js";
import { CampaignService } from "./services/campaign.service.js";
import { TenantService } from "./services/tenant.service.js";
import { VideoJobService } from "./services/video-job.service.js";

/** Every service, wired in one place. A service gets only what it uses. */
export interface Services {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  apiKeys: ApiKeyService;
  tenants: TenantService;
  campaigns: CampaignService;
  assets: AssetService;
  videoJobs: VideoJobService;
}

export function createServices(deps: { config: Config; logger: Logger; dataSource: DataSource }): Services {
  const { config, logger, dataSource } = deps;
  const apiKeys = new ApiKeyService(dataSource);
  return {
    config,
    logger,
    dataSource,
    apiKeys,
    tenants: new TenantService(dataSource, apiKeys),
    campaigns: new CampaignService(dataSource),
    assets: new AssetService(dataSource),
    videoJobs: new VideoJobService(dataSource),
  };
}
