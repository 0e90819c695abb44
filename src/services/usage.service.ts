import type { DataSource, EntityManager } from "typeorm";
import { AppError } from "../errors.js";

/** A tenant's usage over a time range, and per UTC day. */
export interface UsageReport {
  videos: number;
  renderedSeconds: number;
  providerCostUsd: number;
  /** Bytes stored at the end of the range. */
  storageBytes: number;
  /** Photos that became READY within the range. */
  assets: number;
  byDay: { date: string; videos: number; renderedSeconds: number; providerCostUsd: number }[];
}

/** The longest range `usage` answers (a day-by-day series has one row per day). */
export const MAX_USAGE_DAYS = 400;

/**
 * In `finish`'s transaction: the job's video, counted once however often it is re-assembled
 * (a retried scene's re-render is billed through its charge, not as another video).
 */
export async function recordVideoCompleted(
  manager: EntityManager,
  jobId: string,
  durationSeconds: number,
): Promise<void> {
  await manager.query(
    `INSERT INTO usage_event (tenant_id, kind, job_id, videos, rendered_seconds)
     SELECT tenant_id, 'VIDEO_COMPLETED', id, 1, $2 FROM video_job WHERE id = $1
     ON CONFLICT (job_id) WHERE kind = 'VIDEO_COMPLETED' DO NOTHING`,
    [jobId, durationSeconds],
  );
}

/**
 * Usage read from `usage_event`: facts written with the changes they describe (a job's finish,
 * a charge, media stored or deleted, a photo becoming READY), never recomputed from the rows
 * as they are now — deleting a campaign does not shrink last month's bill.
 */
export class UsageService {
  constructor(private readonly dataSource: DataSource) {}

  async usage(tenantId: string, from: Date, to: Date): Promise<UsageReport> {
    if (!(from.getTime() < to.getTime())) throw new AppError("BAD_USER_INPUT", "`from` must be before `to`");
    if (to.getTime() - from.getTime() > MAX_USAGE_DAYS * 86_400_000) {
      throw new AppError("BAD_USER_INPUT", `A usage range may span at most ${MAX_USAGE_DAYS} days`);
    }
    const [totals] = await this.dataSource.query(
      `SELECT COALESCE(sum(videos) FILTER (WHERE occurred_at >= $2), 0)::int AS videos,
              COALESCE(sum(rendered_seconds) FILTER (WHERE occurred_at >= $2), 0)::float8 AS rendered_seconds,
              COALESCE(sum(provider_cost_usd) FILTER (WHERE occurred_at >= $2), 0)::float8 AS provider_cost_usd,
              COALESCE(sum(assets) FILTER (WHERE occurred_at >= $2), 0)::int AS assets,
              COALESCE(sum(storage_bytes), 0)::float8 AS storage_bytes
         FROM usage_event WHERE tenant_id = $1 AND occurred_at < $3`,
      [tenantId, from, to],
    );
    const days: { date: string; videos: number; rendered_seconds: number; provider_cost_usd: number }[] =
      await this.dataSource.query(
        `WITH days AS (
           SELECT generate_series(date_trunc('day', $2::timestamptz AT TIME ZONE 'UTC'),
                                  date_trunc('day', ($3::timestamptz - interval '1 millisecond') AT TIME ZONE 'UTC'),
                                  interval '1 day') AS day
         ), events AS (
           SELECT date_trunc('day', occurred_at AT TIME ZONE 'UTC') AS day, videos, rendered_seconds, provider_cost_usd
             FROM usage_event
            WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3
              AND kind IN ('VIDEO_COMPLETED', 'PROVIDER_CHARGE')
         )
         SELECT to_char(d.day, 'YYYY-MM-DD') AS date,
                COALESCE(sum(e.videos), 0)::int AS videos,
                COALESCE(sum(e.rendered_seconds), 0)::float8 AS rendered_seconds,
                COALESCE(sum(e.provider_cost_usd), 0)::float8 AS provider_cost_usd
           FROM days d LEFT JOIN events e ON e.day = d.day
          GROUP BY d.day ORDER BY d.day`,
        [tenantId, from, to],
      );
    return {
      videos: totals.videos,
      renderedSeconds: round(totals.rendered_seconds, 3),
      providerCostUsd: round(totals.provider_cost_usd, 4),
      storageBytes: totals.storage_bytes,
      assets: totals.assets,
      byDay: days.map((day) => ({
        date: day.date,
        videos: day.videos,
        renderedSeconds: round(day.rendered_seconds, 3),
        providerCostUsd: round(day.provider_cost_usd, 4),
      })),
    };
  }
}

const round = (value: number, places: number): number => Math.round(value * 10 ** places) / 10 ** places;
