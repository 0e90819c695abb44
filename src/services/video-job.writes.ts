import type { DataSource, EntityManager } from "typeorm";
import { returnedRows } from "../db/sql.js";
import { type CostKind, PHASE_PROGRESS } from "../events/job-event.types.js";
import { appendJobEvent } from "../events/job-events.js";
import { deleteUnreferencedMedia } from "../media/media-references.js";

/** Writes the job's transitions share (src/services/video-job.state-machine.ts, job-part.state-machine.ts). */

/** The share of a job's progress its scenes fill, from RENDERING's start to ASSEMBLING's. */
const SCENES_SHARE = PHASE_PROGRESS.ASSEMBLING - PHASE_PROGRESS.RENDERING;

/** Runs a guarded UPDATE; its first returned row, or undefined when the guard let nothing through. */
export async function guardedUpdate<T = { id: string }>(
  db: EntityManager,
  sql: string,
  params: unknown[],
): Promise<T | undefined> {
  return returnedRows<T>(await db.query(sql, params))[0];
}

/**
 * RENDERING's share of the job's progress, filled by the scenes that succeeded. Computed exactly
 * (numeric, 4 places) so that all scenes done is ASSEMBLING's start, not a float's hair above it.
 */
export async function updateRenderProgress(manager: EntityManager, jobId: string): Promise<void> {
  await manager.query(
    `UPDATE video_job SET updated_at = now(), progress = round($2::numeric + $3::numeric *
            (SELECT count(*) FILTER (WHERE status = 'SUCCEEDED') / GREATEST(count(*), 1)::numeric FROM scene WHERE job_id = $1), 4)
      WHERE id = $1`,
    [jobId, PHASE_PROGRESS.RENDERING, SCENES_SHARE.toFixed(4)],
  );
}

/**
 * Replaces one estimated line of the job's cost (a scene's VIDEO item, the MUSIC item, the
 * SELECTION item) with the provider's actual charge, and says so with COST_UPDATED.
 */
export async function recordActualCost(
  manager: EntityManager,
  jobId: string,
  kind: CostKind,
  sceneIndex: number | null,
  usd: number,
): Promise<void> {
  const updated = await guardedUpdate<{ total_usd: number }>(
    manager,
    `UPDATE video_job SET cost = (
        SELECT COALESCE(jsonb_agg(CASE WHEN item->>'kind' = $2 AND (item->>'sceneIndex')::int IS NOT DISTINCT FROM $3::int
                                  THEN item || jsonb_build_object('usd', $4::numeric, 'actual', true) ELSE item END ORDER BY ord), '[]'::jsonb)
          FROM jsonb_array_elements(CASE WHEN jsonb_array_length(cost) > 0 THEN cost ELSE estimated_cost END) WITH ORDINALITY AS t(item, ord))
      WHERE id = $1
      RETURNING (SELECT COALESCE(sum((item->>'usd')::numeric), 0) FROM jsonb_array_elements(cost) AS item)::float8 AS total_usd`,
    [jobId, kind, sceneIndex, usd],
  );
  if (!updated) return;
  // The charge as a usage fact too: the cost line above is replaced by a re-render's charge,
  // the bill keeps both.
  await manager.query(
    `INSERT INTO usage_event (tenant_id, kind, job_id, provider, provider_cost_usd)
     SELECT j.tenant_id, 'PROVIDER_CHARGE', j.id, item->>'provider', $4
       FROM video_job j, jsonb_array_elements(j.cost) AS item
      WHERE j.id = $1 AND item->>'kind' = $2 AND (item->>'sceneIndex')::int IS NOT DISTINCT FROM $3::int
      LIMIT 1`,
    [jobId, kind, sceneIndex, usd],
  );
  const totalUsd = Math.round(updated.total_usd * 10_000) / 10_000;
  await appendJobEvent(manager, jobId, { type: "COST_UPDATED", cost: { kind, sceneIndex, usd, totalUsd } });
}

/** Media a transition did not keep; deleted if nothing else uses the bytes. */
export async function releaseMedia(dataSource: DataSource, ids: string[]): Promise<void> {
  await dataSource.transaction((manager) => deleteUnreferencedMedia(manager, ids));
}
