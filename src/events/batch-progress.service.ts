import { isTerminalJobStatus } from "../db/entities/video-job.entity.js";
import { notFound } from "../errors.js";
import type { BatchView, VideoJobBatchService } from "../services/video-job-batch.service.js";
import { type BatchJobState, summariseBatch } from "../services/video-job-batch.writes.js";
import { EventStream, type StreamSink } from "./event-stream.js";
import type { JobWatchRegistry } from "./job-watch-registry.js";

/** One update of a batch's progress: the batch as of now, and the job whose event caused it (none in the first). */
export interface BatchProgressUpdate {
  view: BatchView;
  job: BatchJobState | null;
}

/**
 * `batchProgress(batchId)`: the batch as of one moment, then an update at every event of one of
 * its jobs, built on the same job watches as `videoJobProgress` (one LISTEN connection per
 * process; each job followed from the sequence the first read saw, so nothing is missed or
 * repeated). Ends once every job has ended. Another tenant's batch is NOT_FOUND.
 */
export class BatchProgressService {
  constructor(
    private readonly deps: {
      registry: JobWatchRegistry;
      batches: Pick<VideoJobBatchService, "byId" | "jobStates">;
    },
  ) {}

  async follow(
    tenantId: string,
    batchId: string,
    sink: StreamSink,
  ): Promise<EventStream<BatchProgressUpdate>> {
    const found = await this.deps.batches.byId(tenantId, batchId);
    if (!found) throw notFound("Batch not found");
    const jobs = await this.deps.batches.jobStates(found.batch.id);
    const states = new Map<string, BatchJobState>(jobs.map((job) => [job.id, job]));
    const watchers: { close(): void }[] = [];
    const stream = new EventStream<BatchProgressUpdate>(sink, () => {
      for (const watcher of watchers) watcher.close();
    });
    const current = (job: BatchJobState | null): BatchProgressUpdate => ({
      view: { batch: found.batch, summary: summariseBatch([...states.values()]) },
      job,
    });
    const first = current(null);
    const done = first.view.summary.status === "COMPLETED";
    stream.push(first, done);
    if (done) {
      stream.end();
      return stream;
    }
    for (const job of jobs) {
      if (isTerminalJobStatus(job.status)) continue;
      watchers.push(
        this.deps.registry.watchJob(job.id, job.lastSequence, (deliveries) => {
          for (const delivery of deliveries) {
            const state = delivery.event.job ?? delivery.job;
            if (!state) continue;
            const changed = { id: job.id, status: state.status, progress: state.progress };
            states.set(job.id, changed);
            const update = current(changed);
            const complete = update.view.summary.status === "COMPLETED";
            stream.push(update, complete);
            if (complete) return stream.end();
          }
        }),
      );
    }
    return stream;
  }
}
