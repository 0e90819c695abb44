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
  // 0 − x, not −x: one job is priority 0, not −0.
  return 0 - Math.floor(Math.log2(Math.max(1, unfinishedJobs)));
}

/** Where a job's part goes in the queue: its fair-share priority and its tenant (the pg-boss group). */
export interface Placement {
  priority: number;
  tenantId: string;
}

/** Reads a job's tenant's backlog and turns it into the placement of the part being enqueued. */
export class FairShare {
  constructor(private readonly dataSource: DataSource) {}

  async placementOf(jobId: string): Promise<Placement | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT j.tenant_id, (SELECT count(*)::int FROM video_job o
                             WHERE o.tenant_id = j.tenant_id AND NOT o.status = ANY($2)) AS n
         FROM video_job j WHERE j.id = $1`,
      [jobId, TERMINAL_JOB_STATUSES],
    );
    return row ? { priority: fairSharePriority(row.n), tenantId: row.tenant_id } : undefined;
  }
}
