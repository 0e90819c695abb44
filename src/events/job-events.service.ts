import { isTerminalJobStatus } from "../db/entities/video-job.entity.js";
import { AppError, notFound } from "../errors.js";
import type { CampaignService } from "../services/campaign.service.js";
import type { VideoJobService } from "../services/video-job.service.js";
import { EventStream, type StreamSink } from "./event-stream.js";
import { JobEventDelivery } from "./job-event-delivery.js";
import type { JobEventReader } from "./job-event-reader.js";
import type { JobWatchRegistry } from "./job-watch-registry.js";

/**
 * Live job events for a tenant's followers: a job's progress (a snapshot, then every event in
 * order until the job ends; or everything after a sequence) and a campaign's activity. Each
 * stream is bounded: a follower that cannot keep up is dropped.
 */
export class JobEventsService {
  constructor(
    private readonly deps: {
      registry: JobWatchRegistry;
      reader: JobEventReader;
      videoJobs: Pick<VideoJobService, "byIds">;
      campaigns: Pick<CampaignService, "byIds">;
    },
  ) {}

  /** Starts listening for job events (an API process does it at start; a first follower would too). */
  async start(): Promise<void> {
    await this.deps.registry.start();
  }

  async stop(): Promise<void> {
    await this.deps.registry.stop();
  }

  /** Open watches in this process (jobs and campaigns). */
  get watcherCount(): number {
    return this.deps.registry.watcherCount;
  }

  /**
   * A job's events: without `afterSequence`, a SNAPSHOT and then every later event; with it,
   * every event after that one (no snapshot, no gap, no repeat). Ends after the job's final
   * event. Another tenant's job is NOT_FOUND, exactly like a random id.
   */
  async followJob(
    tenantId: string,
    jobId: string,
    afterSequence: number | null,
    sink: StreamSink,
  ): Promise<EventStream<JobEventDelivery>> {
    if (afterSequence !== null && afterSequence < 0)
      throw new AppError("BAD_USER_INPUT", "afterSequence must be ≥ 0");
    const [owned] = await this.deps.videoJobs.byIds(tenantId, [jobId]);
    if (!owned) throw notFound("Video job not found");

    let watcher: { close(): void } | undefined;
    const stream = new EventStream<JobEventDelivery>(sink, () => watcher?.close());
    let after = afterSequence;
    if (after === null) {
      const snapshot = await this.deps.reader.snapshot(jobId);
      if (!snapshot) throw notFound("Video job not found");
      after = snapshot.job.lastSequence;
      const finished = isTerminalJobStatus(snapshot.job.status);
      stream.push(JobEventDelivery.snapshot(snapshot), finished);
      if (finished) {
        stream.end();
        return stream;
      }
    } else if (isTerminalJobStatus(owned.status) && owned.lastSequence <= after) {
      stream.end();
      return stream;
    }
    watcher = this.deps.registry.watchJob(jobId, after, (deliveries) => {
      for (const delivery of deliveries) {
        if (!delivery.job) return stream.end(); // the job was deleted
        stream.push(delivery, delivery.isFinal);
        if (delivery.isFinal) return stream.end();
      }
    });
    return stream;
  }

  /** Jobs of a campaign being created and finishing, from now on. */
  async followCampaign(
    tenantId: string,
    campaignId: string,
    sink: StreamSink,
  ): Promise<EventStream<JobEventDelivery>> {
    const [campaign] = await this.deps.campaigns.byIds(tenantId, [campaignId]);
    if (!campaign) throw notFound("Campaign not found");
    const floor = await this.deps.reader.campaignFloor(campaign.id);
    let watcher: { close(): void } | undefined;
    const stream = new EventStream<JobEventDelivery>(sink, () => watcher?.close());
    watcher = this.deps.registry.watchCampaign(campaign.id, floor, (deliveries) => {
      for (const delivery of deliveries) {
        if (delivery.job?.tenantId === tenantId) stream.push(delivery);
      }
    });
    return stream;
  }
}
