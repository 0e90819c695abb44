import type { DataSource, EntityManager } from "typeorm";
import { TERMINAL_JOB_STATUSES } from "../db/entities/video-job.entity.js";
import { returnedRows } from "../db/sql.js";
import { isUuid } from "../domain/ids.js";
import { appendJobEvent } from "../events/job-events.js";
import type { NotificationListener } from "../events/notification-listener.js";
import type { Logger } from "../logger.js";
import type { JobQueue } from "./job-queue.js";
import { managerQuery, type QuotaService } from "./quota.service.js";

/** The stage of a QUEUED job that waits for one of its tenant's slots. */
export const WAITING_FOR_SLOT_STAGE = "waiting_for_slot";
/** The stage of a QUEUED job that has a slot and waits for its plan to run. */
export const ADMITTED_STAGE = "queued";
/**
 * Announced (payload: the tenant id) when an admitted job of the tenant ends or is deleted, by
 * the `video_job_slot_freed` trigger when that transaction commits; every worker hears it.
 */
export const TENANT_SLOTS_CHANNEL = "propvid_tenant_slots";

/** What the job's create transition asks before it inserts the job. */
export interface JobGate {
  /**
   * In the create transaction: locks the tenant's slots, checks its quotas (QUOTA_EXCEEDED) and
   * says whether the new job has a slot now or waits for one.
   */
  enter(manager: EntityManager, tenantId: string): Promise<{ admitted: boolean }>;
}

/** Serialises everything that counts or hands out one tenant's slots (two-key form: its own lock space). */
async function lockTenantSlots(manager: EntityManager, tenantId: string): Promise<void> {
  await manager.query("SELECT pg_advisory_xact_lock(hashtext('propvid.tenant-slots'), hashtext($1))", [
    tenantId,
  ]);
}

async function runningJobs(manager: EntityManager, tenantId: string): Promise<number> {
  const [row] = await manager.query(
    "SELECT count(*)::int AS n FROM video_job WHERE tenant_id = $1 AND admitted_at IS NOT NULL AND NOT status = ANY($2)",
    [tenantId, TERMINAL_JOB_STATUSES],
  );
  return row.n;
}

/**
 * Per-tenant slots: a tenant runs at most its concurrent-jobs quota of video jobs at once; the
 * rest stay QUEUED with stage `waiting_for_slot` and are admitted, oldest first, as its running
 * jobs end. A job holds its slot from admission until it ends (or is deleted); only an admitted
 * job's plan is ever enqueued. Slots are counted from the rows under a per-tenant advisory lock,
 * so any number of API and worker processes agree.
 *
 * When a slot frees, the `video_job_slot_freed` trigger NOTIFYs the tenant on commit, whichever
 * code path ended the job; each worker admits on that wake-up, and sweeps every tenant after
 * its listener (re)connects and once a minute (`video.admit`), for a wake-up nobody heard.
 */
export class JobAdmission implements JobGate {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      queue: Pick<JobQueue, "planVideo">;
      quotas: QuotaService;
      logger: Logger;
    },
  ) {}

  async enter(manager: EntityManager, tenantId: string): Promise<{ admitted: boolean }> {
    await lockTenantSlots(manager, tenantId);
    const limits = await this.deps.quotas.limitsOf(tenantId, managerQuery(manager));
    await this.deps.quotas.checkNewVideo(manager, tenantId, limits);
    if (limits.concurrentJobs === null) return { admitted: true };
    return { admitted: (await runningJobs(manager, tenantId)) < limits.concurrentJobs };
  }

  /** Admits the tenant's oldest waiting jobs into its free slots and enqueues their plans; returns their ids. */
  async admitWaiting(tenantId: string): Promise<string[]> {
    const admitted = await this.deps.dataSource.transaction(async (manager) => {
      await lockTenantSlots(manager, tenantId);
      const { concurrentJobs } = await this.deps.quotas.limitsOf(tenantId, managerQuery(manager));
      const free = concurrentJobs === null ? null : concurrentJobs - (await runningJobs(manager, tenantId));
      if (free !== null && free <= 0) return [];
      // SKIP LOCKED: a waiting job being cancelled right now is not worth waiting for.
      const rows = returnedRows<{ id: string }>(
        await manager.query(
          `UPDATE video_job SET admitted_at = now(), stage = $3, updated_at = now()
            WHERE id IN (SELECT id FROM video_job
                          WHERE tenant_id = $1 AND status = 'QUEUED' AND admitted_at IS NULL
                          ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
            RETURNING id`,
          [tenantId, free, ADMITTED_STAGE],
        ),
      );
      for (const row of rows) await appendJobEvent(manager, row.id, { type: "JOB_UPDATED" });
      return rows.map((row) => row.id);
    });
    for (const jobId of admitted) await this.deps.queue.planVideo(jobId);
    if (admitted.length > 0)
      this.deps.logger.info({ tenantId, jobs: admitted.length }, "video jobs admitted");
    return admitted;
  }

  /** Admits waiting jobs of every tenant that has any (a wake-up may have been missed). */
  async sweep(): Promise<number> {
    const tenants: { tenant_id: string }[] = await this.deps.dataSource.query(
      "SELECT DISTINCT tenant_id FROM video_job WHERE status = 'QUEUED' AND admitted_at IS NULL",
    );
    let admitted = 0;
    for (const { tenant_id } of tenants) admitted += (await this.admitWaiting(tenant_id)).length;
    return admitted;
  }

  /** A worker process admits on every freed slot it hears of, and sweeps now and after every (re)connection. */
  watch(listener: Pick<NotificationListener, "on" | "onConnected">): () => void {
    const report = (error: unknown) =>
      this.deps.logger.warn({ err: error }, "admitting waiting video jobs failed");
    const off = listener.on(TENANT_SLOTS_CHANNEL, (tenantId) => {
      if (isUuid(tenantId)) void this.admitWaiting(tenantId).catch(report);
    });
    const offConnected = listener.onConnected(() => void this.sweep().catch(report));
    // Whatever freed while no worker listened (this one is starting) is admitted now.
    void this.sweep().catch(report);
    return () => {
      off();
      offConnected();
    };
  }
}
