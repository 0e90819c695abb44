import type { JobStatus } from "../db/entities/video-job.entity.js";

/** What the video job's transitions report to `/metrics` (per process; Prometheus sums the processes). */
export interface JobMetrics {
  jobCreated(): void;
  /** A job reached a final status here; `seconds` from its creation, when known. */
  jobEnded(status: JobStatus, seconds?: number): void;
}
