import type { DataSource } from "typeorm";
import { TERMINAL_JOB_STATUSES } from "../db/entities/video-job.entity.js";

/**
 * Fair shares of the render slots between tenants, as pg-boss priorities (workers fetch the
 * highest priority first, then the oldest). Every part of a video job (plan, scenes, score,
 * assembly) is sent with a priority from how much work its tenant has in the system at that
 * moment: −⌊log₂ n⌋ for n unfinished jobs (waiting ones included). A tenant with one job in the
 * system outranks every tenant with two or more, so its scenes take the next free slots: a
 * tenant with 50 queued jobs delays it by at most the renders already running (one scene per
 * slot). Tenants whose backlogs are within a factor of two of each other share first come,
 * first served, and a tenant's own jobs only reorder when its backlog crosses a power of two.
 * The heaviest tenant still gets every slot nobody lighter wants; no slot is held idle for it.
 */
export function fairSharePriority(unfinishedJobs: number): number {
  return -Math.floor(Math.log2(Math.max(1, unfinishedJobs)));
}

/** Reads a job's tenant's backlog and turns it into the priority of the part being enqueued. */
export class FairShare {
  constructor(private readonly dataSource: DataSource) {}

  async priorityOf(jobId: string): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM video_job
        WHERE tenant_id = (SELECT tenant_id FROM video_job WHERE id = $1) AND NOT status = ANY($2)`,
      [jobId, TERMINAL_JOB_STATUSES],
    );
    return fairSharePriority(row?.n ?? 1);
  }
}
