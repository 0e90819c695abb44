import type { Config } from "../config.js";
import type { Services } from "../container.js";
import type { JobCancellations } from "../events/job-cancellations.js";
import type { Logger } from "../logger.js";
import type { FfmpegBinaries } from "../media/ffmpeg-binaries.js";
import type { MediaStore } from "../media/media.store.js";
import type { ProviderRegistry } from "../providers/registry.js";
import type { LayerDrawer } from "../render/layer-drawing.js";
import type { AssetService } from "../services/asset.service.js";
import type { CampaignService } from "../services/campaign.service.js";
import type { JobPartStateMachine } from "../services/job-part.state-machine.js";
import type { MetricsService } from "../services/metrics.service.js";
import type { TenantService } from "../services/tenant.service.js";
import type { VideoJobStateMachine } from "../services/video-job.state-machine.js";
import { layerDrawerOf } from "../workers/media-tasks.js";

/** Everything the video pipeline's handlers use; each handler declares the part it takes. */
export interface PipelineDeps {
  jobs: VideoJobStateMachine;
  parts: JobPartStateMachine;
  cancellations: JobCancellations;
  assets: AssetService;
  providers: ProviderRegistry;
  media: MediaStore;
  ffmpeg: FfmpegBinaries;
  config: Config;
  mediaUrl: Services["mediaUrl"];
  logger: Logger;
  /** The listing video's overlays read the campaign and the tenant's disclosure text. */
  campaigns: CampaignService;
  tenants: TenantService;
  metrics: Pick<MetricsService, "sceneRendered">;
  /** Overlay layers are drawn in a media thread, never on the event loop. */
  drawLayers: LayerDrawer;
}

export function pipelineDeps(services: Services): PipelineDeps {
  return {
    jobs: services.jobStates,
    parts: services.jobParts,
    cancellations: services.cancellations,
    assets: services.assets,
    providers: services.providers,
    media: services.media,
    ffmpeg: services.ffmpeg,
    config: services.config,
    mediaUrl: services.mediaUrl,
    logger: services.logger,
    campaigns: services.campaigns,
    tenants: services.tenants,
    metrics: services.metrics,
    drawLayers: layerDrawerOf(services.workers),
  };
}
