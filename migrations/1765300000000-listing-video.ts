import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The listing video (issue 12): the listing's URL, agent, locale and time zone on the campaign;
 * what an asset is for (photo, logo, agent photo); the tenant's
 * AI-disclosure text; what each scene's clip shows; the unbranded cut, both captions tracks and
 * the disclosure a video showed.
 */
export class ListingVideo1765300000000 implements MigrationInterface {
  name = "ListingVideo1765300000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "tenant" ADD "ai_disclosure_text" text`);
    await q.query(`ALTER TABLE "campaign" ADD "listing_url" text`);
    await q.query(`ALTER TABLE "campaign" ADD "agent" jsonb`);
    await q.query(`ALTER TABLE "campaign" ADD "locale" text NOT NULL DEFAULT 'en-US'`);
    await q.query(`ALTER TABLE "campaign" ADD "time_zone" text`);
    await q.query(`ALTER TABLE "asset" ADD "purpose" text NOT NULL DEFAULT 'PHOTO'`);
    await q.query(`ALTER TABLE "video_job" ADD "unbranded_video_media_id" uuid`);
    await q.query(`ALTER TABLE "video_job" ADD "captions_media_id" uuid`);
    await q.query(`ALTER TABLE "video_job" ADD "unbranded_captions_media_id" uuid`);
    await q.query(`ALTER TABLE "video_job" ADD "ai_disclosure" text`);
    await q.query(`ALTER TABLE "scene" ADD "overlays" jsonb NOT NULL DEFAULT '[]'`);
    await q.query(
      `ALTER TABLE "video_job" ADD CONSTRAINT "video_job_unbranded_video_media_fkey" FOREIGN KEY ("unbranded_video_media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_job" ADD CONSTRAINT "video_job_captions_media_fkey" FOREIGN KEY ("captions_media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "video_job" ADD CONSTRAINT "video_job_unbranded_captions_media_fkey" FOREIGN KEY ("unbranded_captions_media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "video_job" DROP CONSTRAINT "video_job_unbranded_captions_media_fkey"`);
    await q.query(`ALTER TABLE "video_job" DROP CONSTRAINT "video_job_captions_media_fkey"`);
    await q.query(`ALTER TABLE "video_job" DROP CONSTRAINT "video_job_unbranded_video_media_fkey"`);
    await q.query(`ALTER TABLE "scene" DROP COLUMN "overlays"`);
    await q.query(`ALTER TABLE "video_job" DROP COLUMN "ai_disclosure"`);
    await q.query(`ALTER TABLE "video_job" DROP COLUMN "unbranded_captions_media_id"`);
    await q.query(`ALTER TABLE "video_job" DROP COLUMN "captions_media_id"`);
    await q.query(`ALTER TABLE "video_job" DROP COLUMN "unbranded_video_media_id"`);
    await q.query(`ALTER TABLE "asset" DROP COLUMN "purpose"`);
    await q.query(`ALTER TABLE "campaign" DROP COLUMN "time_zone"`);
    await q.query(`ALTER TABLE "campaign" DROP COLUMN "locale"`);
    await q.query(`ALTER TABLE "campaign" DROP COLUMN "agent"`);
    await q.query(`ALTER TABLE "campaign" DROP COLUMN "listing_url"`);
    await q.query(`ALTER TABLE "tenant" DROP COLUMN "ai_disclosure_text"`);
  }
}
