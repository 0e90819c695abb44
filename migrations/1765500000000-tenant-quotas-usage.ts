import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Fair queues, quotas and usage (issue 13): a tenant's own quotas, the stored-bytes counter the
 * storage quota is checked against, usage as recorded facts, and when a job got a tenant slot.
 * Tables and indexes are written from the entities; the triggers are what TypeORM cannot express:
 * - `media_storage_usage`: every media row inserted or deleted, by any code path, moves the
 *   tenant's counter and records the change as usage, in the same transaction;
 * - `asset_ready_usage`: a photo that becomes READY is recorded as usage;
 * - `video_job_slot_freed`: an admitted job that ends (finish, fail and cancel set finished_at)
 *   or is deleted with its campaign announces its tenant on `propvid_tenant_slots` when the
 *   transaction commits, so a worker admits the tenant's next waiting job at once.
 * Existing rows are carried over: every job so far counts as admitted, every media row, READY
 * photo, finished video and actual charge becomes a usage fact with its own time.
 */
export class TenantQuotasUsage1765500000000 implements MigrationInterface {
  name = "TenantQuotasUsage1765500000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "tenant_quota" ("tenant_id" uuid NOT NULL, "max_storage_bytes" bigint, "max_videos_per_month" integer, "max_concurrent_jobs" integer, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "tenant_quota_pkey" PRIMARY KEY ("tenant_id"))`,
    );
    await q.query(
      `CREATE TABLE "tenant_storage" ("tenant_id" uuid NOT NULL, "stored_bytes" bigint NOT NULL DEFAULT '0', CONSTRAINT "tenant_storage_pkey" PRIMARY KEY ("tenant_id"))`,
    );
    await q.query(
      `CREATE TABLE "usage_event" ("id" BIGSERIAL NOT NULL, "tenant_id" uuid NOT NULL, "kind" text NOT NULL, "job_id" uuid, "provider" text, "videos" integer NOT NULL DEFAULT '0', "rendered_seconds" numeric(12,3) NOT NULL DEFAULT '0', "provider_cost_usd" numeric(12,4) NOT NULL DEFAULT '0', "storage_bytes" bigint NOT NULL DEFAULT '0', "assets" integer NOT NULL DEFAULT '0', "occurred_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "usage_event_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "usage_event_video_completed_key" ON "usage_event"  ("job_id") WHERE kind = 'VIDEO_COMPLETED'`,
    );
    await q.query(
      `CREATE INDEX "usage_event_tenant_occurred_idx" ON "usage_event"  ("tenant_id", "occurred_at") `,
    );
    await q.query(`ALTER TABLE "video_job" ADD "admitted_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`CREATE INDEX "video_job_tenant_status_idx" ON "video_job"  ("tenant_id", "status") `);
    await q.query(
      `ALTER TABLE "tenant_quota" ADD CONSTRAINT "tenant_quota_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "tenant_storage" ADD CONSTRAINT "tenant_storage_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "usage_event" ADD CONSTRAINT "usage_event_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );

    await q.query(`
      CREATE FUNCTION media_storage_usage() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO tenant_storage (tenant_id, stored_bytes) VALUES (NEW.tenant_id, NEW.byte_size)
            ON CONFLICT (tenant_id) DO UPDATE SET stored_bytes = tenant_storage.stored_bytes + EXCLUDED.stored_bytes;
          INSERT INTO usage_event (tenant_id, kind, storage_bytes) VALUES (NEW.tenant_id, 'MEDIA_STORED', NEW.byte_size);
          RETURN NEW;
        END IF;
        -- A tenant being deleted takes its counter and its usage with it: nothing to record.
        IF EXISTS (SELECT 1 FROM tenant WHERE id = OLD.tenant_id) THEN
          UPDATE tenant_storage SET stored_bytes = stored_bytes - OLD.byte_size WHERE tenant_id = OLD.tenant_id;
          INSERT INTO usage_event (tenant_id, kind, storage_bytes) VALUES (OLD.tenant_id, 'MEDIA_DELETED', -OLD.byte_size);
        END IF;
        RETURN OLD;
      END $$`);
    await q.query(
      `CREATE TRIGGER media_storage_usage AFTER INSERT OR DELETE ON "media" FOR EACH ROW EXECUTE FUNCTION media_storage_usage()`,
    );
    await q.query(`
      CREATE FUNCTION asset_ready_usage() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO usage_event (tenant_id, kind, assets) VALUES (NEW.tenant_id, 'ASSET_READY', 1);
        RETURN NEW;
      END $$`);
    await q.query(
      `CREATE TRIGGER asset_ready_usage_insert AFTER INSERT ON "asset" FOR EACH ROW WHEN (NEW.status = 'READY') EXECUTE FUNCTION asset_ready_usage()`,
    );
    await q.query(
      `CREATE TRIGGER asset_ready_usage_update AFTER UPDATE OF status ON "asset" FOR EACH ROW WHEN (NEW.status = 'READY' AND OLD.status IS DISTINCT FROM 'READY') EXECUTE FUNCTION asset_ready_usage()`,
    );
    await q.query(`
      CREATE FUNCTION video_job_slot_freed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('propvid_tenant_slots', OLD.tenant_id::text);
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER video_job_slot_freed_finish AFTER UPDATE OF finished_at ON "video_job" FOR EACH ROW WHEN (OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL AND NEW.admitted_at IS NOT NULL) EXECUTE FUNCTION video_job_slot_freed()`,
    );
    await q.query(
      `CREATE TRIGGER video_job_slot_freed_delete AFTER DELETE ON "video_job" FOR EACH ROW WHEN (OLD.finished_at IS NULL AND OLD.admitted_at IS NOT NULL) EXECUTE FUNCTION video_job_slot_freed()`,
    );

    // What existed before: every job had been enqueued, so each counts as admitted.
    await q.query(`UPDATE "video_job" SET "admitted_at" = COALESCE("started_at", "created_at")`);
    await q.query(
      `INSERT INTO "tenant_storage" ("tenant_id", "stored_bytes") SELECT "tenant_id", sum("byte_size") FROM "media" GROUP BY "tenant_id"`,
    );
    await q.query(
      `INSERT INTO "usage_event" ("tenant_id", "kind", "storage_bytes", "occurred_at") SELECT "tenant_id", 'MEDIA_STORED', "byte_size", "created_at" FROM "media"`,
    );
    await q.query(
      `INSERT INTO "usage_event" ("tenant_id", "kind", "assets", "occurred_at") SELECT "tenant_id", 'ASSET_READY', 1, "created_at" FROM "asset" WHERE "status" = 'READY'`,
    );
    await q.query(
      `INSERT INTO "usage_event" ("tenant_id", "kind", "job_id", "videos", "rendered_seconds", "occurred_at")
       SELECT "tenant_id", 'VIDEO_COMPLETED', "id", 1, COALESCE("duration_seconds", 0), COALESCE("finished_at", "updated_at")
         FROM "video_job" WHERE "status" = 'SUCCEEDED'`,
    );
    await q.query(
      `INSERT INTO "usage_event" ("tenant_id", "kind", "job_id", "provider", "provider_cost_usd", "occurred_at")
       SELECT j."tenant_id", 'PROVIDER_CHARGE', j."id", item->>'provider', (item->>'usd')::numeric, COALESCE(j."finished_at", j."updated_at")
         FROM "video_job" j, jsonb_array_elements(j."cost") AS item
        WHERE (item->>'actual')::boolean IS TRUE AND (item->>'usd')::numeric > 0`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER video_job_slot_freed_delete ON "video_job"`);
    await q.query(`DROP TRIGGER video_job_slot_freed_finish ON "video_job"`);
    await q.query(`DROP FUNCTION video_job_slot_freed()`);
    await q.query(`DROP TRIGGER asset_ready_usage_update ON "asset"`);
    await q.query(`DROP TRIGGER asset_ready_usage_insert ON "asset"`);
    await q.query(`DROP FUNCTION asset_ready_usage()`);
    await q.query(`DROP TRIGGER media_storage_usage ON "media"`);
    await q.query(`DROP FUNCTION media_storage_usage()`);
    await q.query(`ALTER TABLE "usage_event" DROP CONSTRAINT "usage_event_tenant_fkey"`);
    await q.query(`ALTER TABLE "tenant_storage" DROP CONSTRAINT "tenant_storage_tenant_fkey"`);
    await q.query(`ALTER TABLE "tenant_quota" DROP CONSTRAINT "tenant_quota_tenant_fkey"`);
    await q.query(`DROP INDEX "video_job_tenant_status_idx"`);
    await q.query(`ALTER TABLE "video_job" DROP COLUMN "admitted_at"`);
    await q.query(`DROP INDEX "usage_event_tenant_occurred_idx"`);
    await q.query(`DROP INDEX "usage_event_video_completed_key"`);
    await q.query(`DROP TABLE "usage_event"`);
    await q.query(`DROP TABLE "tenant_storage"`);
    await q.query(`DROP TABLE "tenant_quota"`);
  }
}
