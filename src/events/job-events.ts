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
  const rows: { sequence: number | null }[] = await db.query(
    `WITH ${appendSql()}`,
    appendParams(jobId, event),
  );
  return rows[0]?.sequence ?? undefined;
}

/**
 * A guarded write and its event as **one statement** (so one round trip, atomic without a
 * transaction): `guard` is an UPDATE … RETURNING whose parameters come first; the event is
 * appended only if it updated a row. For the frequent progress reports: as a transaction (BEGIN,
 * UPDATE, append, COMMIT) each report cost the worker four round trips, and the event, stamped
 * at BEGIN, waited on the worker's process — niced below the API — to send the other three.
 * Returns whether the guard let the write through.
 */
export async function guardedWriteWithEvent(
  db: DataSource | EntityManager,
  guard: { sql: string; params: readonly unknown[] },
  jobId: string,
  event: JobEventBody,
): Promise<boolean> {
  const offset = guard.params.length;
  const rows: { guarded: number }[] = await db.query(
    `WITH guard AS (${guard.sql}), ${appendSql(offset, "EXISTS (SELECT 1 FROM guard)")}`,
    [...guard.params, ...appendParams(jobId, event)],
  );
  return (rows[0]?.guarded ?? 0) > 0;
}

/**
 * The append's CTEs and final SELECT, its parameters numbered after `offset`; `condition` (SQL)
 * must hold for the job's sequence to advance. The SELECT returns one row whether or not the
 * event was appended: `guarded` (rows the guard CTE returned, when there is one) and `sequence`.
 */
function appendSql(offset = 0, condition?: string): string {
  const [job, type, body, channel] = [1, 2, 3, 4].map((n) => `$${n + offset}`);
  return `next AS (
       UPDATE video_job SET last_sequence = last_sequence + 1
        WHERE id = ${job}${condition ? ` AND ${condition}` : ""}
       RETURNING last_sequence, tenant_id, campaign_id, status, stage, progress
     ), inserted AS (
       INSERT INTO job_event (job_id, tenant_id, campaign_id, sequence, type, payload)
       SELECT ${job}, tenant_id, campaign_id, last_sequence, ${type},
              ${body}::jsonb || jsonb_build_object('job', jsonb_build_object('status', status, 'stage', stage, 'progress', progress))
         FROM next
       RETURNING sequence
     ), notified AS (
       SELECT sequence, pg_notify(${channel}, ${job} || ':' || sequence) FROM inserted
     )
     SELECT (SELECT sequence FROM notified) AS sequence${condition ? ", (SELECT count(*)::int FROM guard) AS guarded" : ""}`;
}

function appendParams(jobId: string, event: JobEventBody): unknown[] {
  const { type, ...body } = event;
  return [jobId, type, JSON.stringify(body), JOB_EVENTS_CHANNEL];
}
