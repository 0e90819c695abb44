import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Issue 13, first half: outbound partner webhooks (endpoints, the outbox of messages, the log
 * of attempts) and video job batches. Written from the entities (the "entities and migrations
 * agree" test keeps them in step). The inbound `webhook_delivery` table is untouched.
 */
export class PartnerWebhooksAndBatches1765400000000 implements MigrationInterface {
  name = "PartnerWebhooksAndBatches1765400000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "video_job_batch" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "idempotency_key" text, "input_hash" text NOT NULL, "job_count" integer NOT NULL, "completed_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "video_job_batch_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "video_job_batch_tenant_idx" ON "video_job_batch" ("tenant_id") `);
    await q.query(
      `CREATE UNIQUE INDEX "video_job_batch_tenant_idempotency_key" ON "video_job_batch" ("tenant_id", "idempotency_key") WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(
      `CREATE TABLE "video_job_batch_item" ("batch_id" uuid NOT NULL, "position" integer NOT NULL, "job_id" uuid NOT NULL, CONSTRAINT "video_job_batch_item_pkey" PRIMARY KEY ("batch_id", "position"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "video_job_batch_item_job_key" ON "video_job_batch_item" ("job_id") `);
    await q.query(
      `CREATE TABLE "webhook_endpoint" ("id" uuid NOT NULL, "tenant_id" uuid NOT NULL, "url" text NOT NULL, "description" text, "events" text array NOT NULL DEFAULT '{}', "enabled" boolean NOT NULL DEFAULT true, "disabled_reason" text, "disabled_at" TIMESTAMP WITH TIME ZONE, "failing_since" TIMESTAMP WITH TIME ZONE, "secret_ciphertext" text NOT NULL, "previous_secret_ciphertext" text, "previous_secret_expires_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "webhook_endpoint_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "webhook_endpoint_tenant_created_idx" ON "webhook_endpoint" ("tenant_id", "created_at", "id") `,
    );
    await q.query(
      `CREATE TABLE "webhook_message" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "endpoint_id" uuid NOT NULL, "event_type" text NOT NULL, "payload" jsonb NOT NULL, "signed_media" jsonb NOT NULL DEFAULT '{}', "status" text NOT NULL DEFAULT 'PENDING', "generation" integer NOT NULL DEFAULT '1', "auto_retry" boolean NOT NULL DEFAULT true, "attempts" integer NOT NULL DEFAULT '0', "last_status_code" integer, "last_response" text, "last_error" text, "last_attempt_at" TIMESTAMP WITH TIME ZONE, "next_attempt_at" TIMESTAMP WITH TIME ZONE, "delivered_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "webhook_message_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "webhook_message_tenant_idx" ON "webhook_message" ("tenant_id") `);
    await q.query(
      `CREATE INDEX "webhook_message_endpoint_created_idx" ON "webhook_message" ("endpoint_id", "created_at", "id") `,
    );
    await q.query(
      `CREATE TABLE "webhook_attempt" ("id" BIGSERIAL NOT NULL, "message_id" uuid NOT NULL, "tenant_id" uuid NOT NULL, "status_code" integer, "duration_ms" integer NOT NULL, "error" text, "response_excerpt" text, "attempted_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "webhook_attempt_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "webhook_attempt_tenant_idx" ON "webhook_attempt" ("tenant_id") `);
    await q.query(`CREATE INDEX "webhook_attempt_message_idx" ON "webhook_attempt" ("message_id", "id") `);
    await q.query(
      `ALTER TABLE "video_job_batch" ADD CONSTRAINT "video_job_batch_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_job_batch_item" ADD CONSTRAINT "video_job_batch_item_batch_fkey" FOREIGN KEY ("batch_id") REFERENCES "video_job_batch"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_job_batch_item" ADD CONSTRAINT "video_job_batch_item_job_fkey" FOREIGN KEY ("job_id") REFERENCES "video_job"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "webhook_endpoint" ADD CONSTRAINT "webhook_endpoint_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "webhook_message" ADD CONSTRAINT "webhook_message_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "webhook_message" ADD CONSTRAINT "webhook_message_endpoint_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoint"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "webhook_attempt" ADD CONSTRAINT "webhook_attempt_message_fkey" FOREIGN KEY ("message_id") REFERENCES "webhook_message"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "webhook_attempt" ADD CONSTRAINT "webhook_attempt_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // Dropping a table drops its indexes and the foreign keys it holds; children first.
    await q.query(`DROP TABLE "webhook_attempt"`);
    await q.query(`DROP TABLE "webhook_message"`);
    await q.query(`DROP TABLE "webhook_endpoint"`);
    await q.query(`DROP TABLE "video_job_batch_item"`);
    await q.query(`DROP TABLE "video_job_batch"`);
  }
}
