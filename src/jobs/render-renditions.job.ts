import type { RenditionService } from "../delivery/rendition.service.js";
import type { VideoJobStateMachine } from "../services/video-job.state-machine.js";
import type { JobHandler } from "./worker.js";

/**
 * video.renditions: after a job SUCCEEDED, each of its cuts' 720p/480p renditions and the fMP4 copy
 * that HLS serves. The job is already done (this never delays SUCCEEDED); when the ladder is
 * stored, a RENDITIONS_READY event says so. A video replaced meanwhile (a scene retried) is
 * skipped: the new video has its own job.
 */
export const renderRenditionsJob =
  (deps: { jobs: VideoJobStateMachine; renditions: RenditionService }): JobHandler<"video.renditions"> =>
  async ({ jobId, mediaId }, run) => {
    const job = await deps.jobs.load(jobId);
    if (!job || (job.videoMediaId !== mediaId && job.unbrandedVideoMediaId !== mediaId)) return;
    const renditions = await deps.renditions.produce(job.tenantId, mediaId, run.signal);
    await deps.jobs.renditionsReady(
      jobId,
      mediaId,
      renditions.map((rendition) => rendition.label),
    );
  };
