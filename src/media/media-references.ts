import type { EntityManager } from "typeorm";
import { returnedRows } from "../db/sql.js";

/** Every column that points at a media row. A media row nobody points at is garbage. */
export const MEDIA_REFERENCES: readonly (readonly [table: string, column: string])[] = [
  ["asset", "media_id"],
  ["asset", "thumbnail_media_id"],
  ["scene", "clip_media_id"],
  ["video_job", "video_media_id"],
  ["video_job", "poster_media_id"],
  ["video_job", "unbranded_video_media_id"],
  ["video_job", "captions_media_id"],
  ["video_job", "unbranded_captions_media_id"],
  ["video_job", "audio_media_id"],
  ["video_job", "score_media_id"],
  ["video_rendition", "media_id"],
];

const notReferenced = (alias: string): string =>
  MEDIA_REFERENCES.map(
    ([table, column]) => `NOT EXISTS (SELECT 1 FROM ${table} r WHERE r.${column} = ${alias}.id)`,
  ).join(" AND ");

/** Media ids referenced by a campaign's rows (collected before the campaign is deleted). */
export async function mediaIdsOfCampaign(manager: EntityManager, campaignId: string): Promise<string[]> {
  const rows: { id: string }[] = await manager.query(
    `SELECT unnest(ARRAY[media_id, thumbnail_media_id]) AS id FROM asset WHERE campaign_id = $1
     UNION
     SELECT s.clip_media_id FROM scene s JOIN video_job j ON j.id = s.job_id WHERE j.campaign_id = $1
     UNION
     SELECT unnest(ARRAY[video_media_id, poster_media_id, audio_media_id, score_media_id,
                         unbranded_video_media_id, captions_media_id, unbranded_captions_media_id])
       FROM video_job WHERE campaign_id = $1
     UNION
     SELECT r.media_id FROM video_rendition r JOIN video_job j ON r.source_media_id = j.video_media_id WHERE j.campaign_id = $1`,
    [campaignId],
  );
  return rows.map((row) => row.id).filter((id): id is string => id !== null);
}

/**
 * Deletes those of `ids` that nothing references any more. The `media_unlink_lo` trigger unlinks
 * each large object in the same transaction, so rows and bytes go together or not at all.
 */
export async function deleteUnreferencedMedia(
  manager: EntityManager,
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const deleted = returnedRows(
    await manager.query(
      `DELETE FROM media m WHERE m.id = ANY($1::uuid[]) AND ${notReferenced("m")} RETURNING m.id`,
      [ids],
    ),
  );
  return deleted.length;
}

/** The sweeper: unreferenced media rows older than `graceSeconds`, and large objects no media row owns. */
export async function sweepMedia(
  manager: EntityManager,
  graceSeconds = 3600,
): Promise<{ mediaRows: number; orphanLargeObjects: number }> {
  const rows = returnedRows(
    await manager.query(
      `DELETE FROM media m WHERE m.created_at < now() - make_interval(secs => $1) AND ${notReferenced("m")} RETURNING m.id`,
      [graceSeconds],
    ),
  );
  const orphans: unknown[] = await manager.query(
    `SELECT lo_unlink(l.oid) FROM pg_largeobject_metadata l
      WHERE NOT EXISTS (SELECT 1 FROM media m WHERE m.lo_oid = l.oid::bigint)`,
  );
  return { mediaRows: rows.length, orphanLargeObjects: orphans.length };
}
