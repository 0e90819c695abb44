import type { Services } from "../container.js";
import { admitJobsJob } from "./admit-jobs.job.js";
import { assembleVideoJob } from "./assemble-video.job.js";
import { composeScoreJob } from "./compose-score.job.js";
import { deliverWebhookJob } from "./deliver-webhook.job.js";
import { importAssetsJob } from "./import-assets.job.js";
import { pipelineDeps } from "./pipeline-deps.js";
import { planVideoJob } from "./plan-video.job.js";
import { renderRenditionsJob } from "./render-renditions.job.js";
import { renderSceneJob } from "./render-scene.job.js";
import { sweepMediaJob } from "./sweep-media.job.js";
import type { JobHandlers } from "./worker.js";

/** Queue name → handler. `startWorkers` refuses to run when this and QUEUE_POLICIES disagree. */
export function jobHandlers(services: Services): JobHandlers {
  const deps = pipelineDeps(services);
  return {
    "asset.import": importAssetsJob(services),
    "media.sweep": sweepMediaJob(services),
    "video.plan": planVideoJob(deps),
    "video.scene": renderSceneJob(deps),
    "video.score": composeScoreJob(deps),
    "video.assemble": assembleVideoJob(deps),
    "webhook.deliver": deliverWebhookJob(services),
    "video.admit": admitJobsJob(services),
    "video.renditions": renderRenditionsJob({ jobs: services.jobStates, renditions: services.renditions }),
  };
}
