import { readFile } from "node:fs/promises";
import type { Services } from "../../src/container.js";
import { VideoJobEntity } from "../../src/db/entities/index.js";
import { isTerminalJobStatus, type VideoJobOptions } from "../../src/db/entities/video-job.entity.js";
import { fixturePhoto } from "./fixtures.js";

/** Creates a campaign and ingests the given fixture photos into it. */
export async function campaignWithPhotos(
  services: Services,
  tenantId: string,
  names: string[],
): Promise<{ campaignId: string; assetIds: string[] }> {
  const campaign = await services.campaigns.create(tenantId, { name: "Fixture house" });
  const assetIds: string[] = [];
  for (const name of names) {
    const asset = await services.ingest.ingestNew(
      tenantId,
      campaign.id,
      name,
      await readFile(fixturePhoto(name)),
    );
    assetIds.push(asset.id);
  }
  return { campaignId: campaign.id, assetIds };
}

/** The options of a job on the embedded providers, for rows written straight into video_job. */
export function embeddedJobOptions(sceneCount: number): VideoJobOptions {
  return {
    sceneCount,
    secondsPerScene: 4,
    aspectRatio: "LANDSCAPE_16_9",
    mood: "LUXURY",
    selector: "heuristic",
    videoProvider: "local",
    musicProvider: "local",
  };
}

/** Waits until the job reaches a terminal status (or the timeout passes). */
export async function waitForJob(
  services: Services,
  jobId: string,
  timeoutMs = 180_000,
): Promise<VideoJobEntity> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await services.dataSource.getRepository(VideoJobEntity).findOneByOrFail({ id: jobId });
    if (isTerminalJobStatus(job.status)) return job;
    if (Date.now() > deadline) {
      const log: { sequence: number; type: string; at: Date }[] = await services.dataSource.query(
        "SELECT sequence, type, created_at AS at FROM job_event WHERE job_id = $1 ORDER BY sequence DESC LIMIT 8",
        [jobId],
      );
      const recent = log
        .map((event) => `${event.sequence} ${event.type} ${event.at.toISOString()}`)
        .join(", ");
      throw new Error(
        `job ${jobId} still ${job.status} (${job.stage}) after ${timeoutMs} ms; last events: ${recent}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export const SEVEN_SCENE_PHOTOS = [
  "exterior-01.jpg",
  "exterior-02.jpg",
  "living-01.jpg",
  "living-03.jpg",
  "kitchen-01.jpg",
  "kitchen-02.jpg",
  "dining-01.jpg",
  "dining-02.jpg",
  "bedroom-01.jpg",
  "bedroom-03.jpg",
  "bath-01.jpg",
  "pool-01.jpg",
  "view-02.jpg",
];
