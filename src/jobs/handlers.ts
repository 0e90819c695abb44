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
  return {
    "asset.import": importAssetsJob(services),
    "media.sweep": sweepMediaJob(services),
    "video.plan": planVideoJob(services),
    "video.scene": renderSceneJob(services),
    "video.score": composeScoreJob(services),
    "video.assemble": assembleVideoJob(services),
  };
}
