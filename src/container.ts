import type { PgBoss } from "pg-boss";
import type { DataSource } from "typeorm";
import type { Config } from "./config.js";
import { RenditionService } from "./delivery/rendition.service.js";
import { ShareLinkService } from "./delivery/share-link.service.js";
import { JobCancellations } from "./events/job-cancellations.js";
import { JobEventReader } from "./events/job-event-reader.js";
import { JobEventsService } from "./events/job-events.service.js";
import { JobWatchRegistry } from "./events/job-watch-registry.js";
import { NotificationListener } from "./events/notification-listener.js";
import { PgBossJobQueue } from "./jobs/queues.js";
import type { Logger } from "./logger.js";
import { type FfmpegBinaries, resolveFfmpegBinaries } from "./media/ffmpeg-binaries.js";
import { MediaStore, poolOf } from "./media/media.store.js";
import { addRealProviders } from "./providers/real-providers.js";
import { embeddedProviders, type ProviderRegistry } from "./providers/registry.js";
import { PredictionWakeups } from "./providers/replicate/prediction-waiter.js";
import { ApiKeyService } from "./services/api-key.service.js";
import { AssetService } from "./services/asset.service.js";
import { AssetImportService } from "./services/asset-import.service.js";
import { AssetIngestService } from "./services/asset-ingest.service.js";
import { AssetUploadService } from "./services/asset-upload.service.js";
import { CampaignService } from "./services/campaign.service.js";
import { JobPartStateMachine } from "./services/job-part.state-machine.js";
import { TenantService } from "./services/tenant.service.js";
import {
  DEFAULT_URL_LIFETIME_SECONDS,
  filenameBinding,
  type TokenPurpose,
  TokenService,
  VIEW_URL_ALIGN_SECONDS,
} from "./services/token.service.js";
import { VideoJobService } from "./services/video-job.service.js";
import { VideoJobStateMachine } from "./services/video-job.state-machine.js";
import { VideoPipelineService } from "./services/video-pipeline.service.js";
import { createMediaWorkerPool, type MediaWorkerPool } from "./workers/media-tasks.js";

/** What a provider registry is built from (tests and benchmarks build their own from it). */
export interface ProviderContext {
  ffmpeg: FfmpegBinaries;
  workers: MediaWorkerPool;
  wakeups: PredictionWakeups;
}

export type ProviderFactory = (context: ProviderContext) => ProviderRegistry;

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
  /** Bytes in hand → an analysed asset. */
  ingest: AssetIngestService;
  /** Signed upload URLs and the bytes PUT to them. */
  uploads: AssetUploadService;
  imports: AssetImportService;
  boss: PgBoss;
  ffmpeg: FfmpegBinaries;
  /** Worker threads for CPU-heavy media work (RENDER_CONCURRENCY); the app's stop closes them. */
  workers: MediaWorkerPool;
  providers: ProviderRegistry;
  /** The video job's transitions, and those of its scenes and score. */
  jobStates: VideoJobStateMachine;
  jobParts: JobPartStateMachine;
  pipeline: VideoPipelineService;
  /** The one LISTEN connection of this process: job events for subscribers, webhook wake-ups for workers. */
  notifications: NotificationListener;
  /** Live job events for subscribers (listens on start, or on the first subscription). */
  jobEvents: JobEventsService;
  /** Wakes waiting Replicate adapters when a webhook for their prediction arrives at any process. */
  predictionWakeups: PredictionWakeups;
  /** Tells running parts of a job, in any process, that it was cancelled. */
  cancellations: JobCancellations;
  /** Adaptive-streaming renditions of finished videos. */
  renditions: RenditionService;
  /** Public share pages' links, views and watch time. */
  shareLinks: ShareLinkService;
  /**
   * A signed URL for a media object of the tenant. `filename` names downloads
   * (`Content-Disposition`); it is bound into the signature so nobody can rename our bytes.
   */
  mediaUrl(
    tenantId: string,
    mediaId: string,
    purpose?: TokenPurpose,
    lifetimeSeconds?: number,
    filename?: string,
  ): string;
}

export function createServices(deps: {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  boss: PgBoss;
  /** Replaces the provider registry (tests and benchmarks add their own providers). */
  providers?: ProviderFactory;
}): Services {
  const { config, logger, dataSource, boss } = deps;
  const ffmpeg = resolveFfmpegBinaries({
    ffmpegPath: config.ffmpegPath,
    ffprobePath: config.ffprobePath,
    searchPath: config.searchPath,
  });
  const workers = createMediaWorkerPool({ size: config.renderConcurrency, logger });
  const notifications = new NotificationListener({
    connectionString: (dataSource.options as { url?: string }).url ?? "",
    logger,
  });
  const predictionWakeups = new PredictionWakeups(notifications);
  const providers = (
    deps.providers ??
    ((context) =>
      addRealProviders(embeddedProviders({ ffmpeg: context.ffmpeg.ffmpeg, workers: context.workers }), {
        config,
        logger,
        ffmpeg: context.ffmpeg.ffmpeg,
        wakeups: context.wakeups,
      }))
  )({ ffmpeg, workers, wakeups: predictionWakeups });
  const apiKeys = new ApiKeyService(dataSource);
  const campaigns = new CampaignService(dataSource);
  const media = new MediaStore(poolOf(dataSource));
  const tokens = new TokenService(config.secret);
  const ingest = new AssetIngestService({ dataSource, config, logger, media, workers });
  const queue = new PgBossJobQueue(boss);
  const videoJobs = new VideoJobService(dataSource);
  const jobStates = new VideoJobStateMachine({ dataSource, queue, logger });
  const reader = new JobEventReader(dataSource);
  return {
    config,
    logger,
    dataSource,
    apiKeys,
    tenants: new TenantService(dataSource, apiKeys),
    campaigns,
    assets: new AssetService(dataSource),
    videoJobs,
    media,
    tokens,
    ingest,
    uploads: new AssetUploadService({ dataSource, config, tokens, campaigns, ingest }),
    imports: new AssetImportService({ dataSource, config, logger, queue, campaigns, ingest }),
    boss,
    ffmpeg,
    workers,
    providers,
    jobStates,
    jobParts: new JobPartStateMachine({ dataSource, jobs: jobStates }),
    pipeline: new VideoPipelineService({ dataSource, campaigns, providers, jobs: jobStates }),
    notifications,
    jobEvents: new JobEventsService({
      registry: new JobWatchRegistry({ listener: notifications, reader, logger }),
      reader,
      videoJobs,
      campaigns,
    }),
    predictionWakeups,
    cancellations: new JobCancellations(dataSource, notifications),
    renditions: new RenditionService({ dataSource, media, ffmpeg, logger }),
    shareLinks: new ShareLinkService(dataSource),
    mediaUrl(tenantId, mediaId, purpose = "view", lifetimeSeconds = DEFAULT_URL_LIFETIME_SECONDS, filename) {
      const align = purpose === "view" || purpose === "share" ? VIEW_URL_ALIGN_SECONDS : 1;
      const extra = filenameBinding(filename);
      const { token } = tokens.sign({ id: mediaId, purpose, tenantId, extra }, lifetimeSeconds, align);
      const name = filename === undefined ? "" : `&name=${encodeURIComponent(filename)}`;
      return `${config.publicBaseUrl}/v1/media/${mediaId}?token=${token}${name}`;
    },
  };
}
