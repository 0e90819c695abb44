import type { Services } from "../container.js";
import { assembleVideoJob } from "./assemble-video.job.js";
import { composeScoreJob } from "./compose-score.job.js";
import { importAssetsJob } from "./import-assets.job.js";
import { planVideoJob } from "./plan-video.job.js";
import { renderSceneJob } from "./render-scene.job.js";
import { sweepMediaJob } from "./sweep-media.job.js";
import type { JobHandlers } from "./worker.js";

/** Queue name → handler. `startWorkers` refuses to run when this and QUEUE_POLICIES disagree. */
export function jobHandlers(services: Services): JobHandlers {
  const {
    jobStates: jobs,
    jobParts: parts,
    cancellations,
    assets,
    providers,
    media,
    ffmpeg,
    config,
    logger,
    mediaUrl,
  } = services;
  return {
    "asset.import": importAssetsJob(services),
    "media.sweep": sweepMediaJob(services),
    "video.plan": planVideoJob({ jobs, assets, providers, media, config, mediaUrl, logger }),
    "video.scene": renderSceneJob({
      jobs,
      parts,
      cancellations,
      assets,
      providers,
      media,
      config,
      mediaUrl,
      logger,
    }),
    "video.score": composeScoreJob({ jobs, parts, cancellations, providers, media, ffmpeg, logger }),
    "video.assemble": assembleVideoJob({ jobs, cancellations, media, ffmpeg, logger }),
  };
}
