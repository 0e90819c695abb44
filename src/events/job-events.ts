import type { DataSource, EntityManager } from "typeorm";

/** The channel every job event is announced on (payload `jobId:sequence`, the row holds the rest). */
export const JOB_EVENTS_CHANNEL = "propvid_job_events";

export const JOB_EVENT_TYPES = [
  "CREATED",
  "JOB_UPDATED",
  "SCENE_UPDATED",
  "COST_UPDATED",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

/**
 * Appends an event with the job's next sequence number and NOTIFYs it, in the caller's
 * transaction when given one (so the event commits with the state change it describes).
 * The row lock on `video_job` serialises appends per job: sequences have no gaps or repeats.
 */
export async function appendJobEvent(
  db: DataSource | EntityManager,
  jobId: string,
  type: JobEventType,
  payload: Record<string, unknown>,
): Promise<number | undefined> {
  const rows: { sequence: number }[] = await db.query(
    `WITH next AS (
       UPDATE video_job SET last_sequence = last_sequence + 1 WHERE id = $1
       RETURNING last_sequence, tenant_id, campaign_id
     ), inserted AS (
       INSERT INTO job_event (job_id, tenant_id, campaign_id, sequence, type, payload)
       SELECT $1, tenant_id, campaign_id, last_sequence, $2, $3::jsonb FROM next
       RETURNING sequence
     )
     SELECT sequence, pg_notify($4, $1 || ':' || sequence) FROM inserted`,
    [jobId, type, JSON.stringify(payload), JOB_EVENTS_CHANNEL],
  );
  return rows[0]?.sequence;
}
