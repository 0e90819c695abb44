import type { PgBoss } from "pg-boss";
import type { DataSource } from "typeorm";
import type { Config } from "./config.js";
import { RenditionService } from "./delivery/rendition.service.js";
import { ShareLinkService } from "./delivery/share-link.service.js";
import { BatchProgressService } from "./events/batch-progress.service.js";
import { JobCancellations } from "./events/job-cancellations.js";
import { JobEventReader } from "./events/job-event-reader.js";
import { JobEventsService } from "./events/job-events.service.js";
import { JobWatchRegistry } from "./events/job-watch-registry.js";
import { NotificationListener } from "./events/notification-listener.js";
import { PgBossJobQueue } from "./jobs/queues.js";
import type { Logger } from "./logger.js";
import { AnalysisProcess, inProcessAnalyser, type PhotoAnalyser } from "./media/analysis-process.js";
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
import { FairShare } from "./services/fair-share.js";
import { JobAdmission } from "./services/job-admission.service.js";
import { JobPartStateMachine } from "./services/job-part.state-machine.js";
import { MetricsService } from "./services/metrics.service.js";
import { QuotaService } from "./services/quota.service.js";
import { TenantService } from "./services/tenant.service.js";
import {
  DEFAULT_URL_LIFETIME_SECONDS,
  filenameBinding,
  type TokenPurpose,
  TokenService,
  VIEW_URL_ALIGN_SECONDS,
} from "./services/token.service.js";
import { UsageService } from "./services/usage.service.js";
import { VideoJobService } from "./services/video-job.service.js";
import { VideoJobStateMachine } from "./services/video-job.state-machine.js";
import { VideoJobBatchService } from "./services/video-job-batch.service.js";
import { VideoPipelineService } from "./services/video-pipeline.service.js";
import { WebhookDeliverer } from "./webhooks/webhook-deliverer.js";
import { WebhookDeliveryLogService } from "./webhooks/webhook-delivery-log.service.js";
import { WebhookEndpointService } from "./webhooks/webhook-endpoint.service.js";
import { WebhookOutbox } from "./webhooks/webhook-outbox.js";
import { WebhookSecretBox } from "./webhooks/webhook-secrets.js";
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
  /** Decodes and measures photos (in the image analysis process, or here); the app's stop closes it. */
  analyser: PhotoAnalyser;
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
  /** `createVideoJobs` batches, and their live progress. */
  batches: VideoJobBatchService;
  batchProgress: BatchProgressService;
  /** Partner webhooks: the outbox the transitions write to, and one delivery attempt (the `webhook.deliver` job). */
  webhookOutbox: WebhookOutbox;
  webhookSecrets: WebhookSecretBox;
  webhookDeliverer: WebhookDeliverer;
  webhookEndpoints: WebhookEndpointService;
  /** The delivery log and redeliveries. */
  webhookDeliveries: WebhookDeliveryLogService;
  /** Per-tenant quotas (stored bytes, videos per month, concurrent jobs). */
  quotas: QuotaService;
  /** Per-tenant job slots: admits waiting jobs as slots free. */
  admission: JobAdmission;
  /** A tenant's recorded usage. */
  usage: UsageService;
  /** This process's Prometheus metrics (`GET /metrics`). */
  metrics: MetricsService;
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
  /** `part`: the services of a job process, whose metrics its parent's `/metrics` sums in. */
  metricsScope?: "process" | "part";
  /**
   * Where photos are decoded: in the image analysis process (`process`: what a process that
   * serves HTTP uses, media/analysis-process.ts) or in this one (`here`, the default).
   */
  analysis?: "process" | "here";
}): Services {
  const { config, logger, dataSource, boss } = deps;
  const ffmpeg = resolveFfmpegBinaries({
    ffmpegPath: config.ffmpegPath,
    ffprobePath: config.ffprobePath,
    searchPath: config.searchPath,
  });
  const workers = createMediaWorkerPool({
    size: config.renderConcurrency,
    niceness: config.renderNice,
    logger,
  });
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
  apiKeys.listenForRevocations(notifications);
  const campaigns = new CampaignService(dataSource);
  const quotas = new QuotaService({ dataSource, defaults: config.tenantDefaults });
  const media = new MediaStore(poolOf(dataSource), (query, tenantId, phase) =>
    quotas.checkStorage(query, tenantId, phase),
  );
  const tokens = new TokenService(config.secret);
  const queue = new PgBossJobQueue(boss, new FairShare(dataSource));
  const webhookOutbox = new WebhookOutbox({ queue });
  const analyser = deps.analysis === "process" ? new AnalysisProcess({ logger }) : inProcessAnalyser(workers);
  const ingest = new AssetIngestService({
    dataSource,
    config,
    logger,
    media,
    analyser,
    outbox: webhookOutbox,
  });
  const videoJobs = new VideoJobService(dataSource);
  const webhookSecrets = new WebhookSecretBox(config.secret);
  // Webhooks go out through the SSRF guard; the tests-only loopback setting lets tests receive them.
  const outboundPolicy = { allowedPorts: [80, 443], allowLoopbackForTests: config.allowLoopbackFetch };
  const webhookEndpoints = new WebhookEndpointService({
    dataSource,
    secrets: webhookSecrets,
    outbox: webhookOutbox,
    policy: outboundPolicy,
  });
  const admission = new JobAdmission({ dataSource, queue, quotas, logger });
  const reader = new JobEventReader(dataSource);
  const registry = new JobWatchRegistry({ listener: notifications, reader, logger });
  const jobEvents = new JobEventsService({ registry, reader, videoJobs, campaigns });
  const metrics = new MetricsService({
    dataSource,
    boss,
    subscriptions: () => jobEvents.watcherCount,
    scope: deps.metricsScope,
  });
  const jobStates = new VideoJobStateMachine({
    dataSource,
    queue,
    logger,
    outbox: webhookOutbox,
    gate: admission,
    metrics,
  });
  const pipeline = new VideoPipelineService({ dataSource, campaigns, providers, jobs: jobStates });
  const batches = new VideoJobBatchService({ dataSource, pipeline, jobs: jobStates, queue });
  const signedMediaUrl = (
    tenantId: string,
    mediaId: string,
    purpose: TokenPurpose,
    lifetimeSeconds: number,
    filename?: string,
    exact = false,
  ) => {
    // View URLs end on a shared boundary, so a page refetched within it gets the same URLs (cache
    // hits); `exact` keeps the lifetime as asked (a webhook's URL is valid 24 h, not up to 10 min more).
    const align = !exact && (purpose === "view" || purpose === "share") ? VIEW_URL_ALIGN_SECONDS : 1;
    // A download's name is bound into the signature, so nobody can rename our bytes.
    const extra = filenameBinding(filename);
    const { token, expiresAt } = tokens.sign(
      { id: mediaId, purpose, tenantId, extra },
      lifetimeSeconds,
      align,
    );
    const name = filename === undefined ? "" : `&name=${encodeURIComponent(filename)}`;
    return { url: `${config.publicBaseUrl}/v1/media/${mediaId}?token=${token}${name}`, expiresAt };
  };
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
    imports: new AssetImportService({
      dataSource,
      config,
      logger,
      queue,
      campaigns,
      ingest,
      outbox: webhookOutbox,
    }),
    boss,
    ffmpeg,
    workers,
    analyser,
    providers,
    jobStates,
    jobParts: new JobPartStateMachine({ dataSource, jobs: jobStates, outbox: webhookOutbox }),
    pipeline,
    notifications,
    jobEvents,
    predictionWakeups,
    cancellations: new JobCancellations(dataSource, notifications),
    batches,
    batchProgress: new BatchProgressService({ registry, batches }),
    webhookOutbox,
    webhookSecrets,
    webhookDeliverer: new WebhookDeliverer({
      dataSource,
      queue,
      secrets: webhookSecrets,
      sender: { policy: outboundPolicy },
      signMedia: (tenantId, mediaId, lifetimeSeconds) =>
        signedMediaUrl(tenantId, mediaId, "view", lifetimeSeconds, undefined, true),
      logger: logger.child({ component: "webhooks" }),
      metrics,
    }),
    webhookEndpoints,
    webhookDeliveries: new WebhookDeliveryLogService({ dataSource, endpoints: webhookEndpoints, queue }),
    quotas,
    admission,
    usage: new UsageService(dataSource),
    metrics,
    renditions: new RenditionService({ dataSource, media, ffmpeg, logger }),
    shareLinks: new ShareLinkService(dataSource),
    mediaUrl(tenantId, mediaId, purpose = "view", lifetimeSeconds = DEFAULT_URL_LIFETIME_SECONDS, filename) {
      return signedMediaUrl(tenantId, mediaId, purpose, lifetimeSeconds, filename).url;
    },
  };
}
