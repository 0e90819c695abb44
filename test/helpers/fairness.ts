import type { ProviderFactory, Services } from "../../src/container.js";
import type { VideoJobEntity } from "../../src/db/entities/index.js";
import { embeddedProviders } from "../../src/providers/registry.js";
import { fixedTimeVideo, localClipOnce, reusedLocalScore } from "./fixed-time-providers.js";
import { campaignWithPhotos, SEVEN_SCENE_PHOTOS, waitForJob } from "./pipeline.js";

/** The fair-queue scenario (test/integration/fair-queues.test.ts, `npm run bench -- fairness`). */

/** Seconds the fixed-time provider takes per clip. */
export const SCENE_SECONDS = 4;
/** Render slots of the worker, and tenant A's own concurrent-jobs quota. */
export const FAIRNESS_SETTINGS = { RENDER_CONCURRENCY: "4", TENANT_MAX_CONCURRENT_JOBS: "4" };
export const SLOTS_OF_A = 1;
const JOB = {
  secondsPerScene: 2,
  videoProvider: "test:fixed-time",
  musicProvider: "test:reused-score",
} as const;

/** The embedded providers plus a fixed-time video provider and a reused score (scratch files in `dir`). */
export function fairnessProviders(dir: string): ProviderFactory {
  return ({ ffmpeg, workers }) =>
    embeddedProviders({ ffmpeg: ffmpeg.ffmpeg, workers })
      .addVideo(
        fixedTimeVideo({
          name: JOB.videoProvider,
          seconds: SCENE_SECONDS,
          clip: localClipOnce({ ffmpeg: ffmpeg.ffmpeg, workers, dir }),
          // queueing is measured here: no FFmpeg burn of the titles on every clip
          overlaysBurned: true,
        }),
      )
      .addMusic(reusedLocalScore({ workers, dir, name: JOB.musicProvider }));
}

/** A finished job's own time, from its creation to its end (recorded by the database). */
export const jobSeconds = (job: VideoJobEntity): number =>
  (job.finishedAt!.getTime() - job.createdAt.getTime()) / 1000;

export interface FairnessRun {
  tenantA: string;
  /** B's job on the idle system (after a warm-up job). */
  idle: VideoJobEntity;
  /** A's 20 jobs as created (they are still running or waiting). */
  batch: VideoJobEntity[];
  /** B's job submitted right after A's 20. */
  loaded: VideoJobEntity;
}

/**
 * Tenant B's 2-scene job alone, then tenant A's 20 jobs of 8 scenes and B's job again. A runs
 * one job at a time (its quota), whose 8 scenes keep all 4 render slots busy with 4 more queued:
 * B's scenes must get ahead of those. Few of A's steps run at once, so the comparison is not
 * swamped by CPU contention on a small machine.
 */
export async function runFairnessScenario(
  services: Services,
  tenants: { a: string; b: string },
): Promise<FairnessRun> {
  const [a, b] = await Promise.all([services.tenants.ensure(tenants.a), services.tenants.ensure(tenants.b)]);
  await services.quotas.setQuota(tenants.a, { concurrentJobs: SLOTS_OF_A });
  const photos = SEVEN_SCENE_PHOTOS.slice(0, 8);
  const campaignA = await campaignWithPhotos(services, a.id, photos);
  const campaignB = await campaignWithPhotos(services, b.id, photos);
  const submitA = () =>
    services.pipeline.create(a.id, { campaignId: campaignA.campaignId, sceneCount: 8, ...JOB });
  const submitB = () =>
    services.pipeline.create(b.id, { campaignId: campaignB.campaignId, sceneCount: 2, ...JOB });
  const succeeded = async (job: VideoJobEntity) => {
    const ended = await waitForJob(services, job.id);
    if (ended.status !== "SUCCEEDED") throw new Error(`job ended ${ended.status}: ${ended.error}`);
    return ended;
  };

  // Warm-up (renders the clip the provider copies), then B alone on the idle system.
  await succeeded(await submitB());
  const idle = await succeeded(await submitB());
  const batch = [];
  for (let i = 0; i < 20; i++) batch.push(await submitA());
  const loaded = await succeeded(await submitB());
  return { tenantA: a.id, idle, batch, loaded };
}
