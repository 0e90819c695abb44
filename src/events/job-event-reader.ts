import { type DataSource, In } from "typeorm";
import { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import {
  CAMPAIGN_ACTIVITY_TYPES,
  type JobEvent,
  type JobEventType,
  parseJobEvent,
} from "./job-event.types.js";

/** One `job_event` row as a typed event, with where it belongs. */
export type JobEventRecord = JobEvent & {
  id: string;
  jobId: string;
  tenantId: string;
  campaignId: string;
  sequence: number;
  createdAt: Date;
};

/** A job and its scenes as read together. */
export interface JobWithScenes {
  job: VideoJobEntity;
  scenes: SceneEntity[];
}

interface RawEvent {
  id: string;
  job_id: string;
  tenant_id: string;
  campaign_id: string;
  sequence: number;
  type: JobEventType;
  payload: Record<string, unknown>;
  created_at: Date;
}

const COLUMNS =
  "e.id::text AS id, e.job_id, e.tenant_id, e.campaign_id, e.sequence, e.type, e.payload, e.created_at";

/** Reads the append-only event log (and the jobs it is about) for the watchers of this process. */
export class JobEventReader {
  constructor(private readonly dataSource: DataSource) {}

  /** Every event of each job after its sequence, in one query, ordered by job then sequence. */
  async after(watches: readonly { jobId: string; after: number }[]): Promise<JobEventRecord[]> {
    if (watches.length === 0) return [];
    const rows: RawEvent[] = await this.dataSource.query(
      `SELECT ${COLUMNS}
         FROM job_event e
         JOIN unnest($1::uuid[], $2::int[]) AS w(job_id, after) ON e.job_id = w.job_id AND e.sequence > w.after
        ORDER BY e.job_id, e.sequence`,
      [watches.map((watch) => watch.jobId), watches.map((watch) => watch.after)],
    );
    return rows.map(toRecord);
  }

  /** Lifecycle events (created, finished) of the campaigns' jobs appended after event `afterId`. */
  async campaignActivity(campaignIds: readonly string[], afterId: bigint): Promise<JobEventRecord[]> {
    const rows: RawEvent[] = await this.dataSource.query(
      `SELECT ${COLUMNS}
         FROM job_event e
        WHERE e.campaign_id = ANY($1::uuid[]) AND e.id > $2 AND e.type = ANY($3::text[])
        ORDER BY e.id`,
      [campaignIds, afterId.toString(), CAMPAIGN_ACTIVITY_TYPES],
    );
    return rows.map(toRecord);
  }

  /** The newest event id of a campaign: where a campaign watcher starts. */
  async campaignFloor(campaignId: string): Promise<bigint> {
    const [row] = await this.dataSource.query(
      "SELECT COALESCE(MAX(id), 0)::text AS id FROM job_event WHERE campaign_id = $1",
      [campaignId],
    );
    return BigInt((row as { id: string }).id);
  }

  /** The jobs, with their scenes unless `scenes` is false: one or two queries for all of them. */
  async jobs(jobIds: readonly string[], options = { scenes: true }): Promise<Map<string, JobWithScenes>> {
    if (jobIds.length === 0) return new Map();
    const ids = In([...jobIds]);
    const [jobs, scenes] = await Promise.all([
      this.dataSource.getRepository(VideoJobEntity).findBy({ id: ids }),
      options.scenes
        ? this.dataSource.getRepository(SceneEntity).find({ where: { jobId: ids }, order: { index: "ASC" } })
        : [],
    ]);
    return new Map(
      jobs.map((job) => [job.id, { job, scenes: scenes.filter((scene) => scene.jobId === job.id) }]),
    );
  }

  /** A job and its scenes in one repeatable-read transaction: consistent with `job.lastSequence`. */
  async snapshot(jobId: string): Promise<JobWithScenes | null> {
    return await this.dataSource.transaction("REPEATABLE READ", async (manager) => {
      const job = await manager.getRepository(VideoJobEntity).findOneBy({ id: jobId });
      if (!job) return null;
      const scenes = await manager
        .getRepository(SceneEntity)
        .find({ where: { jobId }, order: { index: "ASC" } });
      return { job, scenes };
    });
  }
}

function toRecord(row: RawEvent): JobEventRecord {
  return {
    ...parseJobEvent(row.type, row.payload),
    id: row.id,
    jobId: row.job_id,
    tenantId: row.tenant_id,
    campaignId: row.campaign_id,
    sequence: row.sequence,
    createdAt: row.created_at,
  };
}
