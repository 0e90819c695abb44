import type { MigrationInterface, QueryRunner } from "typeorm";

/** Issue 14: public share links to a job's video. */
export class ShareLinks1765600000001 implements MigrationInterface {
  name = "ShareLinks1765600000001";

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "share_link" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "job_id" uuid NOT NULL, "slug" text NOT NULL, "variant" text NOT NULL DEFAULT 'BRANDED', "expires_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "views" integer NOT NULL DEFAULT '0', "watch_seconds" double precision NOT NULL DEFAULT '0', "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "share_link_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "share_link_tenant_idx" ON "share_link"("tenant_id") `);
    await q.query(`CREATE UNIQUE INDEX "share_link_slug_key" ON "share_link"("slug") `);
    await q.query(`CREATE INDEX "share_link_job_created_idx" ON "share_link"("job_id", "created_at") `);
    await q.query(
      `ALTER TABLE "share_link" ADD CONSTRAINT "share_link_tenant_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "share_link" ADD CONSTRAINT "share_link_job_fkey" FOREIGN KEY ("job_id") REFERENCES "video_job"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "share_link"`);
  }
}
