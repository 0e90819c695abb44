import type { PgBoss } from "pg-boss";
import type { DataSource } from "typeorm";
import type { Config } from "./config.js";
import { JobEventListener } from "./events/job-event-listener.js";
import type { Logger } from "./logger.js";
import { type FfmpegBinaries, resolveFfmpegBinaries } from "./media/ffmpeg-binaries.js";
import { MediaStore, poolOf } from "./media/media.store.js";
import { addRealProviders } from "./providers/real-providers.js";
import { embeddedProviders, type ProviderRegistry } from "./providers/registry.js";
import { ApiKeyService } from "./services/api-key.service.js";
import { AssetService } from "./services/asset.service.js";
import { AssetImportService } from "./services/asset-import.service.js";
import { AssetIngestService } from "./services/asset-ingest.service.js";
import { CampaignService } from "./services/campaign.service.js";
import { TenantService } from "./services/tenant.service.js";
import {
  DEFAULT_URL_LIFETIME_SECONDS,
  type TokenPurpose,
  TokenService,
  VIEW_URL_ALIGN_SECONDS,
} from "./services/token.service.js";
import { VideoJobService } from "./services/video-job.service.js";
import { VideoPipelineService } from "./services/video-pipeline.service.js";

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
  media: MediaStore;
  tokens: TokenService;
  ingest: AssetIngestService;
  imports: AssetImportService;
  boss: PgBoss;
  ffmpeg: FfmpegBinaries;
  pipeline: VideoPipelineService;
  /** The LISTEN fan-out of job events (connects on start, or on the first subscription). */
  jobEvents: JobEventListener;
  /** A signed URL for a media object of the tenant. */
  mediaUrl(tenantId: string, mediaId: string, purpose?: TokenPurpose, lifetimeSeconds?: number): string;
}

export function createServices(deps: {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  boss: PgBoss;
  /** Replaces the provider registry (tests and benchmarks add their own providers). */
  providers?: (ffmpeg: FfmpegBinaries) => ProviderRegistry;
}): Services {
  const { config, logger, dataSource, boss } = deps;
  const ffmpeg = resolveFfmpegBinaries({
    ffmpegPath: config.ffmpegPath,
    ffprobePath: config.ffprobePath,
    searchPath: config.searchPath,
  });
  const providers = (
    deps.providers ??
    ((binaries) =>
      addRealProviders(embeddedProviders({ ffmpeg: binaries.ffmpeg }), {
        config,
        logger,
        ffmpeg: binaries.ffmpeg,
      }))
  )(ffmpeg);
  const apiKeys = new ApiKeyService(dataSource);
  const campaigns = new CampaignService(dataSource);
  const media = new MediaStore(poolOf(dataSource));
  const tokens = new TokenService(config.secret);
  const ingest = new AssetIngestService({ dataSource, config, logger, media, tokens, campaigns });
  const jobEvents = new JobEventListener({
    connectionString: (dataSource.options as { url?: string }).url ?? "",
    dataSource,
    logger,
  });
  return {
    config,
    logger,
    dataSource,
    apiKeys,
    tenants: new TenantService(dataSource, apiKeys),
    campaigns,
    assets: new AssetService(dataSource),
    videoJobs: new VideoJobService(dataSource),
    media,
    tokens,
    ingest,
    imports: new AssetImportService({ dataSource, config, logger, boss, campaigns, ingest }),
    boss,
    ffmpeg,
    pipeline: new VideoPipelineService({ dataSource, boss, logger, campaigns, providers }),
    jobEvents,
    mediaUrl(tenantId, mediaId, purpose = "view", lifetimeSeconds = DEFAULT_URL_LIFETIME_SECONDS) {
      const align = purpose === "view" ? VIEW_URL_ALIGN_SECONDS : 1;
      const { token } = tokens.sign({ id: mediaId, purpose, tenantId }, lifetimeSeconds, align);
      return `${config.publicBaseUrl}/v1/media/${mediaId}?token=${token}`;
    },
  };
}
