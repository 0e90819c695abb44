import type { DataSource, EntityManager } from "typeorm";
import type { JobEventBody } from "./job-event.types.js";

/** The channel every job event is announced on (payload `jobId:sequence`, the row holds the rest). */
export const JOB_EVENTS_CHANNEL = "propvid_job_events";

/**
 * Appends an event with the job's next sequence number and NOTIFYs it, in the caller's
 * transaction when given one (so the event commits with the state change it describes).
 * The job's status, stage and progress are copied into the payload from the row by the same
 * statement, after the caller's transition updated it: the event states them as of itself.
 * The row lock on `video_job` serialises appends per job: sequences have no gaps or repeats.
 */
export async function appendJobEvent(
  db: DataSource | EntityManager,
  jobId: string,
  event: JobEventBody,
): Promise<number | undefined> {
  const { type, ...body } = event;
  const rows: { sequence: number }[] = await db.query(
    `WITH next AS (
       UPDATE video_job SET last_sequence = last_sequence + 1 WHERE id = $1
       RETURNING last_sequence, tenant_id, campaign_id, status, stage, progress
     ), inserted AS (
       INSERT INTO job_event (job_id, tenant_id, campaign_id, sequence, type, payload)
       SELECT $1, tenant_id, campaign_id, last_sequence, $2,
              $3::jsonb || jsonb_build_object('job', jsonb_build_object('status', status, 'stage', stage, 'progress', progress))
         FROM next
       RETURNING sequence
     )
     SELECT sequence, pg_notify($4, $1 || ':' || sequence) FROM inserted`,
    [jobId, type, JSON.stringify(body), JOB_EVENTS_CHANNEL],
  );
  return rows[0]?.sequence;
}
