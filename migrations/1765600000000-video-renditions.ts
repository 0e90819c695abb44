import type { MigrationInterface, QueryRunner } from "typeorm";

/** Issue 14: the adaptive-streaming ladder of a video (one fragmented MP4 per rung). */
export class VideoRenditions1765600000000 implements MigrationInterface {
  name = "VideoRenditions1765600000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "video_rendition" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "source_media_id" uuid NOT NULL, "media_id" uuid NOT NULL, "label" text NOT NULL, "width" integer NOT NULL, "height" integer NOT NULL, "bandwidth" integer NOT NULL, "average_bandwidth" integer NOT NULL, "codecs" text NOT NULL, "duration_seconds" real NOT NULL, "segments" jsonb NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "video_rendition_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "video_rendition_tenant_idx" ON "video_rendition"("tenant_id") `);
    await q.query(`CREATE INDEX "video_rendition_media_idx" ON "video_rendition"("media_id") `);
    await q.query(
      `CREATE UNIQUE INDEX "video_rendition_source_label_key" ON "video_rendition"("source_media_id", "label") `,
    );
    await q.query(
      `ALTER TABLE "video_rendition" ADD CONSTRAINT "video_rendition_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_rendition" ADD CONSTRAINT "video_rendition_source_media_fkey" FOREIGN KEY ("source_media_id") REFERENCES "media"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_rendition" ADD CONSTRAINT "video_rendition_media_fkey" FOREIGN KEY ("media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "video_rendition"`);
  }
}
