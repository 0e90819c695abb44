import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The whole data model of DESIGN.md section 3. Written from the entities (the "entities and
 * migrations agree" test keeps them in step) plus what TypeORM cannot express: the trigger that
 * unlinks a media row's large object in the same transaction that deletes the row.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = "InitialSchema1764000000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "tenant" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "tenant_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "tenant_name_key" ON "tenant"("name") `);
    await q.query(
      `CREATE TABLE "api_key" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "prefix" text NOT NULL, "key_hash" text NOT NULL, "name" text NOT NULL, "scopes" text array NOT NULL DEFAULT '{}', "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "api_key_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "api_key_tenant_idx" ON "api_key"("tenant_id") `);
    await q.query(`CREATE UNIQUE INDEX "api_key_prefix_key" ON "api_key"("prefix") `);
    await q.query(
      `CREATE TABLE "campaign" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "name" text NOT NULL, "address" text, "price" numeric(14,2), "currency" text NOT NULL DEFAULT 'USD', "bedrooms" integer, "bathrooms" numeric(4,1), "area_sqft" integer, "description" text, "brand" jsonb NOT NULL DEFAULT '{}', "music_mood" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "campaign_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "campaign_tenant_created_idx" ON "campaign"("tenant_id", "created_at", "id") `,
    );
    await q.query(
      `CREATE TABLE "media" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "lo_oid" bigint NOT NULL, "byte_size" bigint NOT NULL, "sha256" text NOT NULL, "content_type" text NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "media_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "media_lo_oid_key" ON "media"("lo_oid") `);
    await q.query(`CREATE UNIQUE INDEX "media_tenant_sha256_key" ON "media"("tenant_id", "sha256") `);
    await q.query(
      `CREATE TABLE "asset" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "campaign_id" uuid NOT NULL, "media_id" uuid, "thumbnail_media_id" uuid, "filename" text NOT NULL, "content_type" text, "byte_size" bigint, "status" text NOT NULL DEFAULT 'PENDING_UPLOAD', "rejection_reason" text, "width" integer, "height" integer, "format" text, "room_type" text, "room_type_guess" text, "tags" text array NOT NULL DEFAULT '{}', "alt_text" text, "quality" jsonb, "dhash" text, "duplicate_of_asset_id" uuid, "source_url" text, "upload_expires_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "asset_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "asset_tenant_idx" ON "asset"("tenant_id") `);
    await q.query(`CREATE INDEX "asset_media_idx" ON "asset"("media_id") `);
    await q.query(`CREATE INDEX "asset_thumbnail_media_idx" ON "asset"("thumbnail_media_id") `);
    await q.query(`CREATE INDEX "asset_campaign_created_idx" ON "asset"("campaign_id", "created_at", "id") `);
    await q.query(
      `CREATE TABLE "asset_import" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "campaign_id" uuid NOT NULL, "kind" text NOT NULL, "page_url" text, "status" text NOT NULL DEFAULT 'QUEUED', "results" jsonb NOT NULL DEFAULT '[]', "error" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "asset_import_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "asset_import_campaign_idx" ON "asset_import"("campaign_id", "created_at") `);
    await q.query(
      `CREATE TABLE "video_job" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "campaign_id" uuid NOT NULL, "status" text NOT NULL DEFAULT 'QUEUED', "stage" text, "progress" real NOT NULL DEFAULT '0', "options" jsonb NOT NULL, "idempotency_key" text, "input_hash" text NOT NULL, "estimated_cost" jsonb NOT NULL DEFAULT '[]', "cost" jsonb NOT NULL DEFAULT '[]', "error_code" text, "error" text, "score_status" text NOT NULL DEFAULT 'PENDING', "score_progress" real NOT NULL DEFAULT '0', "score_error" text, "score_media_id" uuid, "video_media_id" uuid, "poster_media_id" uuid, "audio_media_id" uuid, "duration_seconds" real, "width" integer, "height" integer, "assembly_generation" integer NOT NULL DEFAULT '0', "last_sequence" integer NOT NULL DEFAULT '0', "cancel_requested_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "video_job_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "video_job_tenant_idempotency_key" ON "video_job"("tenant_id", "idempotency_key") WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX "video_job_campaign_created_idx" ON "video_job"("campaign_id", "created_at", "id") `,
    );
    await q.query(
      `CREATE TABLE "job_event" ("id" BIGSERIAL NOT NULL, "job_id" uuid NOT NULL, "tenant_id" uuid NOT NULL, "campaign_id" uuid NOT NULL, "sequence" integer NOT NULL, "type" text NOT NULL, "payload" jsonb NOT NULL DEFAULT '{}', "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "job_event_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "job_event_campaign_idx" ON "job_event"("campaign_id", "id") `);
    await q.query(`CREATE UNIQUE INDEX "job_event_job_sequence_key" ON "job_event"("job_id", "sequence") `);
    await q.query(
      `CREATE TABLE "scene" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "job_id" uuid NOT NULL, "tenant_id" uuid NOT NULL, "index" integer NOT NULL, "scene_type" text NOT NULL, "first_asset_id" uuid, "last_asset_id" uuid, "camera_move" text, "prompt" text, "provider" text, "provider_ref" text, "attempt_token" text, "status" text NOT NULL DEFAULT 'PENDING', "progress" real NOT NULL DEFAULT '0', "attempts" integer NOT NULL DEFAULT '0', "clip_media_id" uuid, "cost_usd" numeric(12,4) NOT NULL DEFAULT '0', "confidence" real, "reasoning" text, "error_code" text, "error" text, "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "scene_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "scene_tenant_idx" ON "scene"("tenant_id") `);
    await q.query(`CREATE INDEX "scene_first_asset_idx" ON "scene"("first_asset_id") `);
    await q.query(`CREATE INDEX "scene_last_asset_idx" ON "scene"("last_asset_id") `);
    await q.query(`CREATE INDEX "scene_clip_media_idx" ON "scene"("clip_media_id") `);
    await q.query(`CREATE UNIQUE INDEX "scene_job_index_key" ON "scene"("job_id", "index") `);
    await q.query(
      `CREATE TABLE "webhook_delivery" ("id" text NOT NULL, "provider" text NOT NULL, "received_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "webhook_delivery_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `ALTER TABLE "api_key" ADD CONSTRAINT "api_key_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "campaign" ADD CONSTRAINT "campaign_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "media" ADD CONSTRAINT "media_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "asset" ADD CONSTRAINT "asset_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "asset" ADD CONSTRAINT "asset_campaign_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "asset" ADD CONSTRAINT "asset_media_fkey" FOREIGN KEY ("media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "asset" ADD CONSTRAINT "asset_thumbnail_media_fkey" FOREIGN KEY ("thumbnail_media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "asset_import" ADD CONSTRAINT "asset_import_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "asset_import" ADD CONSTRAINT "asset_import_campaign_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_job" ADD CONSTRAINT "video_job_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_job" ADD CONSTRAINT "video_job_campaign_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_job" ADD CONSTRAINT "video_job_score_media_fkey" FOREIGN KEY ("score_media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_job" ADD CONSTRAINT "video_job_video_media_fkey" FOREIGN KEY ("video_media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_job" ADD CONSTRAINT "video_job_poster_media_fkey" FOREIGN KEY ("poster_media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_job" ADD CONSTRAINT "video_job_audio_media_fkey" FOREIGN KEY ("audio_media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "job_event" ADD CONSTRAINT "job_event_job_fkey" FOREIGN KEY ("job_id") REFERENCES "video_job"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "job_event" ADD CONSTRAINT "job_event_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "scene" ADD CONSTRAINT "scene_job_fkey" FOREIGN KEY ("job_id") REFERENCES "video_job"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "scene" ADD CONSTRAINT "scene_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "scene" ADD CONSTRAINT "scene_first_asset_fkey" FOREIGN KEY ("first_asset_id") REFERENCES "asset"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "scene" ADD CONSTRAINT "scene_last_asset_fkey" FOREIGN KEY ("last_asset_id") REFERENCES "asset"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "scene" ADD CONSTRAINT "scene_clip_media_fkey" FOREIGN KEY ("clip_media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(`
      CREATE FUNCTION media_unlink_lo() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_largeobject_metadata WHERE oid = OLD.lo_oid::oid) THEN
          PERFORM lo_unlink(OLD.lo_oid::oid);
        END IF;
        RETURN OLD;
      END $$`);
    await q.query(
      `CREATE TRIGGER media_unlink_lo AFTER DELETE ON "media" FOR EACH ROW EXECUTE FUNCTION media_unlink_lo()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER media_unlink_lo ON "media"`);
    await q.query(`DROP FUNCTION media_unlink_lo()`);
    await q.query(`ALTER TABLE "scene" DROP CONSTRAINT "scene_clip_media_fkey"`);
    await q.query(`ALTER TABLE "scene" DROP CONSTRAINT "scene_last_asset_fkey"`);
    await q.query(`ALTER TABLE "scene" DROP CONSTRAINT "scene_first_asset_fkey"`);
    await q.query(`ALTER TABLE "scene" DROP CONSTRAINT "scene_tenant_fkey"`);
    await q.query(`ALTER TABLE "scene" DROP CONSTRAINT "scene_job_fkey"`);
    await q.query(`ALTER TABLE "job_event" DROP CONSTRAINT "job_event_tenant_fkey"`);
    await q.query(`ALTER TABLE "job_event" DROP CONSTRAINT "job_event_job_fkey"`);
    await q.query(`ALTER TABLE "video_job" DROP CONSTRAINT "video_job_audio_media_fkey"`);
    await q.query(`ALTER TABLE "video_job" DROP CONSTRAINT "video_job_poster_media_fkey"`);
    await q.query(`ALTER TABLE "video_job" DROP CONSTRAINT "video_job_video_media_fkey"`);
    await q.query(`ALTER TABLE "video_job" DROP CONSTRAINT "video_job_score_media_fkey"`);
    await q.query(`ALTER TABLE "video_job" DROP CONSTRAINT "video_job_campaign_fkey"`);
    await q.query(`ALTER TABLE "video_job" DROP CONSTRAINT "video_job_tenant_fkey"`);
    await q.query(`ALTER TABLE "asset_import" DROP CONSTRAINT "asset_import_campaign_fkey"`);
    await q.query(`ALTER TABLE "asset_import" DROP CONSTRAINT "asset_import_tenant_fkey"`);
    await q.query(`ALTER TABLE "asset" DROP CONSTRAINT "asset_thumbnail_media_fkey"`);
    await q.query(`ALTER TABLE "asset" DROP CONSTRAINT "asset_media_fkey"`);
    await q.query(`ALTER TABLE "asset" DROP CONSTRAINT "asset_campaign_fkey"`);
    await q.query(`ALTER TABLE "asset" DROP CONSTRAINT "asset_tenant_fkey"`);
    await q.query(`ALTER TABLE "media" DROP CONSTRAINT "media_tenant_fkey"`);
    await q.query(`ALTER TABLE "campaign" DROP CONSTRAINT "campaign_tenant_fkey"`);
    await q.query(`ALTER TABLE "api_key" DROP CONSTRAINT "api_key_tenant_fkey"`);
    await q.query(`DROP TABLE "webhook_delivery"`);
    await q.query(`DROP INDEX "scene_job_index_key"`);
    await q.query(`DROP INDEX "scene_clip_media_idx"`);
    await q.query(`DROP INDEX "scene_last_asset_idx"`);
    await q.query(`DROP INDEX "scene_first_asset_idx"`);
    await q.query(`DROP INDEX "scene_tenant_idx"`);
    await q.query(`DROP TABLE "scene"`);
    await q.query(`DROP INDEX "job_event_job_sequence_key"`);
    await q.query(`DROP INDEX "job_event_campaign_idx"`);
    await q.query(`DROP TABLE "job_event"`);
    await q.query(`DROP INDEX "video_job_campaign_created_idx"`);
    await q.query(`DROP INDEX "video_job_tenant_idempotency_key"`);
    await q.query(`DROP TABLE "video_job"`);
    await q.query(`DROP INDEX "asset_import_campaign_idx"`);
    await q.query(`DROP TABLE "asset_import"`);
    await q.query(`DROP INDEX "asset_campaign_created_idx"`);
    await q.query(`DROP INDEX "asset_thumbnail_media_idx"`);
    await q.query(`DROP INDEX "asset_media_idx"`);
    await q.query(`DROP INDEX "asset_tenant_idx"`);
    await q.query(`DROP TABLE "asset"`);
    await q.query(`DROP INDEX "media_tenant_sha256_key"`);
    await q.query(`DROP INDEX "media_lo_oid_key"`);
    await q.query(`DROP TABLE "media"`);
    await q.query(`DROP INDEX "campaign_tenant_created_idx"`);
    await q.query(`DROP TABLE "campaign"`);
    await q.query(`DROP INDEX "api_key_prefix_key"`);
    await q.query(`DROP INDEX "api_key_tenant_idx"`);
    await q.query(`DROP TABLE "api_key"`);
    await q.query(`DROP INDEX "tenant_name_key"`);
    await q.query(`DROP TABLE "tenant"`);
  }
}
