import type { EntityManager } from "typeorm";
import { hammingDistance } from "../media/image-metrics.js";

/** dHash distance at or below which two photos count as the same shot. */
const NEAR_DUPLICATE_DISTANCE = 10;
/** Quality flags that make a photo a worse take of a shot (DUPLICATE itself is not one). */
const PROBLEM_FLAGS: ReadonlySet<string> = new Set([
  "BLURRY",
  "DARK",
  "OVEREXPOSED",
  "LOW_RESOLUTION",
  "DOCUMENT",
]);

/**
 * The earliest READY photo of the same campaign with the same bytes or nearly the same picture,
 * unless that photo has a problem this one does not (a blurry or dark take of the same shot
 * must not make the good take a duplicate: the selector would then have neither).
 */
export async function findDuplicateAsset(
  manager: EntityManager,
  photo: { assetId: string; campaignId: string; mediaId: string; dhash: string; flags: readonly string[] },
): Promise<string | null> {
  const others: { id: string; media_id: string; dhash: string | null; flags: string[] | null }[] =
    await manager.query(
      `SELECT id, media_id, dhash, quality->'flags' AS flags FROM asset
        WHERE campaign_id = $1 AND id <> $2 AND status = 'READY' AND duplicate_of_asset_id IS NULL
        ORDER BY created_at, id`,
      [photo.campaignId, photo.assetId],
    );
  const worse = (otherFlags: string[] | null) =>
    (otherFlags ?? []).some((flag) => PROBLEM_FLAGS.has(flag) && !photo.flags.includes(flag));
  const match = others.find(
    (other) =>
      !worse(other.flags) &&
      (other.media_id === photo.mediaId ||
        (other.dhash !== null && hammingDistance(other.dhash, photo.dhash) <= NEAR_DUPLICATE_DISTANCE)),
  );
  return match?.id ?? null;
}

/**
 * When an original is deleted, its copies must not point at nothing: the oldest copy becomes
 * the original (its DUPLICATE flag goes), the others become copies of it.
 */
export async function promoteCopiesOf(manager: EntityManager, deletedAssetId: string): Promise<void> {
  await manager.query(
    `WITH copies AS (
       SELECT id, first_value(id) OVER w AS heir, row_number() OVER w AS position
         FROM asset WHERE duplicate_of_asset_id = $1 WINDOW w AS (ORDER BY created_at, id))
     UPDATE asset a
        SET duplicate_of_asset_id = CASE WHEN c.position = 1 THEN NULL ELSE c.heir END,
            quality = CASE WHEN c.position = 1 AND a.quality IS NOT NULL
                           THEN jsonb_set(a.quality, '{flags}', COALESCE(a.quality->'flags', '[]') - 'DUPLICATE')
                           ELSE a.quality END
       FROM copies c WHERE a.id = c.id`,
    [deletedAssetId],
  );
}
