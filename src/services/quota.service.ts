import type { DataSource, EntityManager } from "typeorm";
import type { Config } from "../config.js";
import { TenantEntity } from "../db/entities/index.js";
import { TERMINAL_JOB_STATUSES } from "../db/entities/video-job.entity.js";
import { returnedRows } from "../db/sql.js";
import { AppError } from "../errors.js";

/** The quotas a tenant has; `QUOTA_EXCEEDED` names the one that was hit. */
export const QUOTAS = ["STORAGE_BYTES", "VIDEOS_PER_MONTH", "CONCURRENT_JOBS"] as const;
export type QuotaName = (typeof QUOTAS)[number];

/** A tenant's limits in effect: its own, else the server's defaults. Null: unlimited. */
export interface TenantLimits {
  storageBytes: number | null;
  videosPerMonth: number | null;
  concurrentJobs: number | null;
}

/** What `propvid tenants set-quota` changes: a number sets it, null returns it to the server default. */
export type QuotaChanges = Partial<Record<keyof TenantLimits, number | null>>;

/** A tenant's quotas and where it stands, for `propvid tenants list`. */
export interface TenantQuotaReport {
  name: string;
  limits: TenantLimits;
  /** Which limits are the tenant's own (the others are the server's defaults). */
  own: Record<keyof TenantLimits, boolean>;
  storedBytes: number;
  videosThisMonth: number;
  runningJobs: number;
  waitingJobs: number;
}

/** Runs SQL on whatever connection the caller is in (a TypeORM transaction or a raw pg client). */
export type SqlQuery = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

export function managerQuery(manager: EntityManager): SqlQuery {
  return async (sql, params) => returnedRows(await manager.query(sql, params));
}

const COLUMN: Record<keyof TenantLimits, string> = {
  storageBytes: "max_storage_bytes",
  videosPerMonth: "max_videos_per_month",
  concurrentJobs: "max_concurrent_jobs",
};

/** Videos counted against this month's quota: finished this (UTC) month, plus those still in flight. */
const VIDEOS_THIS_MONTH_SQL = `
  (SELECT count(*) FROM usage_event
    WHERE tenant_id = $1 AND kind = 'VIDEO_COMPLETED'
      AND occurred_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
  + (SELECT count(*) FROM video_job WHERE tenant_id = $1 AND NOT status = ANY($2))`;

export function quotaExceeded(quota: QuotaName, limit: number, current: number): AppError {
  const what: Record<QuotaName, string> = {
    STORAGE_BYTES: `Storage quota exceeded: ${current} of ${limit} bytes stored`,
    VIDEOS_PER_MONTH: `Monthly video quota exceeded: ${current} of ${limit} videos this month`,
    CONCURRENT_JOBS: `Concurrent job quota exceeded: ${current} of ${limit} jobs running`,
  };
  return new AppError("QUOTA_EXCEEDED", what[quota], { details: { quota, limit, current } });
}

/**
 * Per-tenant quotas: stored bytes, videos per month, concurrent jobs. Limits come from
 * `tenant_quota` (set by an operator) or the server's defaults. The checks run inside the
 * transaction of the change they guard, against figures the same transaction has locked: the
 * stored-bytes counter row (locked by the media insert's trigger) and the tenant's slot lock
 * (`JobAdmission`), so concurrent requests cannot both slip under a limit.
 */
export class QuotaService {
  constructor(private readonly deps: { dataSource: DataSource; defaults: Config["tenantDefaults"] }) {}

  async limitsOf(tenantId: string, query: SqlQuery = managerQuery(this.deps.dataSource.manager)) {
    const [own] = await query(
      "SELECT max_storage_bytes, max_videos_per_month, max_concurrent_jobs FROM tenant_quota WHERE tenant_id = $1",
      [tenantId],
    );
    return this.merge(own).limits;
  }

  /**
   * The storage check around a media insert, on the inserting connection. `before` the bytes are
   * written, a tenant already over its limit is refused at once; `after` the insert (whose
   * trigger moved and locked the counter), a store that took the tenant past it is refused and
   * the caller rolls back.
   */
  async checkStorage(query: SqlQuery, tenantId: string, phase: "before" | "after"): Promise<void> {
    const { storageBytes: limit } = await this.limitsOf(tenantId, query);
    if (limit === null) return;
    const [row] = await query("SELECT stored_bytes FROM tenant_storage WHERE tenant_id = $1", [tenantId]);
    const stored = Number(row?.stored_bytes ?? 0);
    // Before: a full quota is refused before a byte is written (even bytes it already holds:
    // saying so early beats reading a whole upload first). After: this store went past it.
    if (phase === "before" ? stored >= limit : stored > limit) {
      throw quotaExceeded("STORAGE_BYTES", limit, stored);
    }
  }

  /**
   * Whether the tenant may start another video: under its monthly quota (counting the jobs in
   * flight) and not out of storage for the result. Call it holding the tenant's slot lock.
   */
  async checkNewVideo(manager: EntityManager, tenantId: string, limits: TenantLimits): Promise<void> {
    const query = managerQuery(manager);
    if (limits.videosPerMonth !== null) {
      const [row] = await query(`SELECT ${VIDEOS_THIS_MONTH_SQL} AS used`, [tenantId, TERMINAL_JOB_STATUSES]);
      const used = Number(row?.used ?? 0);
      if (used >= limits.videosPerMonth) throw quotaExceeded("VIDEOS_PER_MONTH", limits.videosPerMonth, used);
    }
    if (limits.storageBytes !== null) {
      const [row] = await query("SELECT stored_bytes FROM tenant_storage WHERE tenant_id = $1", [tenantId]);
      const stored = Number(row?.stored_bytes ?? 0);
      if (stored >= limits.storageBytes) throw quotaExceeded("STORAGE_BYTES", limits.storageBytes, stored);
    }
  }

  /** Sets some of a tenant's quotas (null: back to the server default). NOT_FOUND for an unknown tenant. */
  async setQuota(tenantName: string, changes: QuotaChanges): Promise<TenantQuotaReport> {
    const tenant = await this.deps.dataSource
      .getRepository(TenantEntity)
      .findOne({ where: { name: tenantName } });
    if (!tenant) throw new AppError("NOT_FOUND", `No tenant named ${tenantName}`);
    const keys = Object.keys(changes) as (keyof TenantLimits)[];
    for (const key of keys) {
      const value = changes[key];
      if (value !== null && value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
        throw new AppError("BAD_USER_INPUT", `${key} must be a whole number ≥ 0`);
      }
    }
    if (keys.length > 0) {
      const columns = keys.map((key) => COLUMN[key]);
      await this.deps.dataSource.query(
        `INSERT INTO tenant_quota (tenant_id, ${columns.join(", ")}) VALUES ($1, ${keys.map((_, i) => `$${i + 2}`).join(", ")})
         ON CONFLICT (tenant_id) DO UPDATE SET ${columns.map((column) => `${column} = EXCLUDED.${column}`).join(", ")}, updated_at = now()`,
        [tenant.id, ...keys.map((key) => changes[key] ?? null)],
      );
    }
    const [report] = await this.report(tenant.id);
    return report!;
  }

  /** Every tenant (or one) with its quotas in effect and its current figures, by name. */
  async report(tenantId?: string): Promise<TenantQuotaReport[]> {
    const rows: Record<string, unknown>[] = await this.deps.dataSource.query(
      `SELECT t.name, q.max_storage_bytes, q.max_videos_per_month, q.max_concurrent_jobs,
              COALESCE(s.stored_bytes, 0) AS stored_bytes,
              ${VIDEOS_THIS_MONTH_SQL.replaceAll("$1", "t.id")} AS videos_this_month,
              (SELECT count(*) FROM video_job j WHERE j.tenant_id = t.id AND j.admitted_at IS NOT NULL
                  AND NOT j.status = ANY($2)) AS running_jobs,
              (SELECT count(*) FROM video_job j WHERE j.tenant_id = t.id AND j.admitted_at IS NULL
                  AND j.status = 'QUEUED') AS waiting_jobs
         FROM tenant t
         LEFT JOIN tenant_quota q ON q.tenant_id = t.id
         LEFT JOIN tenant_storage s ON s.tenant_id = t.id
        WHERE $1::uuid IS NULL OR t.id = $1::uuid
        ORDER BY t.name`,
      [tenantId ?? null, TERMINAL_JOB_STATUSES],
    );
    return rows.map((row) => ({
      name: String(row.name),
      ...this.merge(row),
      storedBytes: Number(row.stored_bytes),
      videosThisMonth: Number(row.videos_this_month),
      runningJobs: Number(row.running_jobs),
      waitingJobs: Number(row.waiting_jobs),
    }));
  }

  private merge(own: Record<string, unknown> | undefined): Pick<TenantQuotaReport, "limits" | "own"> {
    const { defaults } = this.deps;
    const value = (key: keyof TenantLimits): number | null | undefined => {
      const raw = own?.[COLUMN[key]];
      return raw === null || raw === undefined ? undefined : Number(raw);
    };
    const pick = (key: keyof TenantLimits) => value(key) ?? defaults[key];
    return {
      limits: {
        storageBytes: pick("storageBytes"),
        videosPerMonth: pick("videosPerMonth"),
        concurrentJobs: pick("concurrentJobs"),
      },
      own: {
        storageBytes: value("storageBytes") !== undefined,
        videosPerMonth: value("videosPerMonth") !== undefined,
        concurrentJobs: value("concurrentJobs") !== undefined,
      },
    };
  }
}
