import type { EntityManager } from "typeorm";
import type { CostItemColumns } from "../db/entities/video-job.entity.js";
import type { CompletedBatch } from "../services/video-job-batch.writes.js";
import {
  JOB_END_EVENTS,
  WEBHOOK_EVENT_NAMES,
  type WebhookEvent,
  type WebhookEventType,
} from "./webhook-events.js";

/**
 * The `data` of each event, read in the transaction of the change that causes it (so it is the
 * state that commits, never a later one). Ids, statuses and what a partner acts on; a video's
 * URLs are signed at each attempt (`signedMedia`), so a retry never carries an expired link.
 */

export type TypedWebhookEvent = WebhookEvent & { type: WebhookEventType };

const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);

function event(
  type: WebhookEventType,
  tenantId: string,
  data: Record<string, unknown>,
  signedMedia?: Record<string, string>,
): TypedWebhookEvent {
  return { type, name: WEBHOOK_EVENT_NAMES[type], tenantId, data, ...(signedMedia ? { signedMedia } : {}) };
}

interface JobRow {
  id: string;
  tenant_id: string;
  campaign_id: string;
  status: string;
  error_code: string | null;
  error: string | null;
  video_media_id: string | null;
  poster_media_id: string | null;
  duration_seconds: number | null;
  width: number | null;
  height: number | null;
  cost: CostItemColumns[];
  finished_at: Date | null;
  byte_size: string | null;
  content_type: string | null;
  batch_id: string | null;
}

/** VIDEO_JOB_SUCCEEDED / FAILED / CANCELLED for a job that has just ended; null if it has not. */
export async function jobEndedEvent(
  manager: EntityManager,
  jobId: string,
): Promise<TypedWebhookEvent | null> {
  const [job]: JobRow[] = await manager.query(
    `SELECT j.id, j.tenant_id, j.campaign_id, j.status, j.error_code, j.error, j.video_media_id, j.poster_media_id,
            j.duration_seconds, j.width, j.height, j.cost, j.finished_at, m.byte_size, m.content_type, i.batch_id
       FROM video_job j
       LEFT JOIN media m ON m.id = j.video_media_id
       LEFT JOIN video_job_batch_item i ON i.job_id = j.id
      WHERE j.id = $1`,
    [jobId],
  );
  const type = job ? JOB_END_EVENTS[job.status] : undefined;
  if (!job || !type) return null;
  const data: Record<string, unknown> = {
    id: job.id,
    campaignId: job.campaign_id,
    batchId: job.batch_id,
    status: job.status,
    finishedAt: iso(job.finished_at),
  };
  if (type === "VIDEO_JOB_FAILED") data.error = { code: job.error_code, message: job.error };
  if (type !== "VIDEO_JOB_SUCCEEDED" || !job.video_media_id) return event(type, job.tenant_id, data);
  data.video = {
    durationSeconds: job.duration_seconds,
    width: job.width,
    height: job.height,
    byteSize: job.byte_size === null ? null : Number(job.byte_size),
    contentType: job.content_type,
  };
  const total = job.cost.reduce((sum, item) => sum + item.usd, 0);
  data.cost = {
    totalUsd: Math.round(total * 10_000) / 10_000,
    items: job.cost.map((item) => ({
      kind: item.kind,
      sceneIndex: item.sceneIndex,
      provider: item.provider,
      usd: item.usd,
    })),
  };
  const signedMedia: Record<string, string> = { url: job.video_media_id };
  if (job.poster_media_id) signedMedia.posterUrl = job.poster_media_id;
  return event(type, job.tenant_id, data, signedMedia);
}

/** SCENE_FAILED: a scene that failed for good (its job fails with it: a VIDEO_JOB_FAILED follows). */
export async function sceneFailedEvent(
  manager: EntityManager,
  jobId: string,
  index: number,
): Promise<TypedWebhookEvent | null> {
  const [scene] = await manager.query(
    `SELECT s.index, s.scene_type, s.status, s.error_code, s.error, s.attempts, j.tenant_id, j.campaign_id, i.batch_id
       FROM scene s JOIN video_job j ON j.id = s.job_id LEFT JOIN video_job_batch_item i ON i.job_id = j.id
      WHERE s.job_id = $1 AND s.index = $2`,
    [jobId, index],
  );
  if (!scene) return null;
  return event("SCENE_FAILED", scene.tenant_id, {
    jobId,
    campaignId: scene.campaign_id,
    batchId: scene.batch_id,
    index: scene.index,
    sceneType: scene.scene_type,
    status: scene.status,
    attempts: scene.attempts,
    error: { code: scene.error_code, message: scene.error },
  });
}

/** ASSET_READY or ASSET_REJECTED for each photo that has just settled. */
export async function assetEvents(
  manager: EntityManager,
  assetIds: readonly string[],
): Promise<TypedWebhookEvent[]> {
  if (assetIds.length === 0) return [];
  const rows = await manager.query(
    `SELECT id, tenant_id, campaign_id, filename, status, rejection_reason, content_type, width, height,
            COALESCE(room_type, room_type_guess) AS room_type, quality->'flags' AS flags, duplicate_of_asset_id, source_url
       FROM asset WHERE id = ANY($1::uuid[]) AND status IN ('READY', 'REJECTED')`,
    [assetIds],
  );
  return rows.map((asset: Record<string, unknown>) =>
    event(asset.status === "READY" ? "ASSET_READY" : "ASSET_REJECTED", asset.tenant_id as string, {
      id: asset.id,
      campaignId: asset.campaign_id,
      filename: asset.filename,
      status: asset.status,
      ...(asset.status === "READY"
        ? {
            contentType: asset.content_type,
            width: asset.width,
            height: asset.height,
            roomType: asset.room_type,
            flags: asset.flags ?? [],
            duplicateOfAssetId: asset.duplicate_of_asset_id,
          }
        : { reason: asset.rejection_reason }),
      sourceUrl: asset.source_url,
    }),
  );
}

/** IMPORT_COMPLETED: an import request has finished (every URL imported or failed, or the page failed). */
export async function importCompletedEvent(
  manager: EntityManager,
  importId: string,
): Promise<TypedWebhookEvent | null> {
  const [row] = await manager.query(
    "SELECT id, tenant_id, campaign_id, kind, status, page_url, error, results FROM asset_import WHERE id = $1",
    [importId],
  );
  if (!row) return null;
  const results = row.results as {
    url: string;
    status: string;
    assetId?: string | null;
    errorCode?: string | null;
  }[];
  const count = (status: string) => results.filter((result) => result.status === status).length;
  return event("IMPORT_COMPLETED", row.tenant_id, {
    id: row.id,
    campaignId: row.campaign_id,
    kind: row.kind,
    status: row.status,
    pageUrl: row.page_url,
    error: row.error,
    imported: count("IMPORTED"),
    duplicates: count("DUPLICATE"),
    failed: count("FAILED"),
    results: results.map((result) => ({
      url: result.url,
      status: result.status,
      assetId: result.assetId ?? null,
      errorCode: result.errorCode ?? null,
    })),
  });
}

/** BATCH_COMPLETED: every job of the batch has ended. */
export function batchCompletedEvent(batch: CompletedBatch): TypedWebhookEvent {
  const { summary } = batch;
  return event("BATCH_COMPLETED", batch.tenantId, {
    id: batch.batchId,
    status: summary.status,
    jobCount: summary.jobCount,
    succeeded: summary.succeeded,
    failed: summary.failed,
    cancelled: summary.cancelled,
    jobs: batch.jobs.map((job) => ({ id: job.id, status: job.status })),
  });
}
