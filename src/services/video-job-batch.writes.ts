import type { EntityManager } from "typeorm";
import { isTerminalJobStatus, type JobStatus } from "../db/entities/video-job.entity.js";

/** Writes and reads a batch's state shares with the jobs' final transitions (src/services/video-job.state-machine.ts). */

export const BATCH_STATUSES = ["RUNNING", "COMPLETED"] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** A batch as its jobs make it: COMPLETED once every job has ended (succeeded, failed or cancelled). */
export interface BatchSummary {
  status: BatchStatus;
  /** 0 to 1: an ended job counts as done, a running one by its own progress. */
  progress: number;
  jobCount: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export interface BatchJobState {
  id: string;
  status: JobStatus;
  progress: number;
}

export function summariseBatch(jobs: readonly Pick<BatchJobState, "status" | "progress">[]): BatchSummary {
  const count = (status: JobStatus) => jobs.filter((job) => job.status === status).length;
  const done = jobs.reduce((sum, job) => sum + (isTerminalJobStatus(job.status) ? 1 : job.progress), 0);
  const ended = jobs.every((job) => isTerminalJobStatus(job.status));
  return {
    status: jobs.length > 0 && ended ? "COMPLETED" : "RUNNING",
    progress: jobs.length === 0 ? 0 : Math.round((done / jobs.length) * 10_000) / 10_000,
    jobCount: jobs.length,
    succeeded: count("SUCCEEDED"),
    failed: count("FAILED"),
    cancelled: count("CANCELLED"),
  };
}

/** A batch that has just completed, for its BATCH_COMPLETED webhook. */
export interface CompletedBatch {
  batchId: string;
  tenantId: string;
  summary: BatchSummary;
  jobs: BatchJobState[];
}

/**
 * Called by every final transition of a job, in its transaction: when the job belongs to a batch
 * whose other jobs have all ended, marks the batch complete (once) and returns it. The batch row
 * is locked first, so that two of its jobs ending at the same moment queue up here and the second
 * (whose next statement sees the first's commit) is the one that finds them all ended.
 */
export async function completeBatchOf(manager: EntityManager, jobId: string): Promise<CompletedBatch | null> {
  const [item] = await manager.query("SELECT batch_id FROM video_job_batch_item WHERE job_id = $1", [jobId]);
  if (!item) return null;
  const [batch] = await manager.query(
    "SELECT id, tenant_id, completed_at FROM video_job_batch WHERE id = $1 FOR UPDATE",
    [item.batch_id],
  );
  if (!batch || batch.completed_at) return null;
  const jobs = await batchJobStates(manager, batch.id);
  const summary = summariseBatch(jobs);
  if (summary.status !== "COMPLETED") return null;
  await manager.query("UPDATE video_job_batch SET completed_at = now() WHERE id = $1", [batch.id]);
  return { batchId: batch.id, tenantId: batch.tenant_id, summary, jobs };
}

/** The batch's jobs in input order, each with the sequence of its last event. */
export async function batchJobStates(
  db: EntityManager,
  batchId: string,
): Promise<(BatchJobState & { lastSequence: number })[]> {
  const rows: { id: string; status: JobStatus; progress: number; last_sequence: number }[] = await db.query(
    `SELECT j.id, j.status, j.progress, j.last_sequence FROM video_job_batch_item i JOIN video_job j ON j.id = i.job_id
      WHERE i.batch_id = $1 ORDER BY i.position`,
    [batchId],
  );
  return rows.map((row) => ({
    id: row.id,
    status: row.status,
    progress: row.progress,
    lastSequence: row.last_sequence,
  }));
}
