import { randomBytes } from "node:crypto";
import type { DataSource } from "typeorm";
import { CampaignEntity, ShareLinkEntity, VideoJobEntity } from "../db/entities/index.js";
import { returnedRows } from "../db/sql.js";
import { isUuid } from "../domain/ids.js";
import { AppError, badInput } from "../errors.js";

export const SHARE_VARIANTS = ["BRANDED", "UNBRANDED"] as const;
export type ShareVariant = (typeof SHARE_VARIANTS)[number];

/** 24 random bytes = 192 bits, 32 base64url characters: unguessable and URL-safe. */
export const SLUG_BYTES = 24;
export const SLUG_PATTERN = /^[A-Za-z0-9_-]{32}$/;
/** One beacon reports at most this much watching (the page sends every 15 s and on leaving). */
export const MAX_WATCH_SECONDS_PER_BEACON = 60;

export const newSlug = (): string => randomBytes(SLUG_BYTES).toString("base64url");

/**
 * The video media row a variant plays. The unbranded cut arrives with the listing-video work
 * (`VideoJob.unbrandedVideo`); until a job has one, UNBRANDED has nothing to play.
 */
export function videoMediaIdOf(job: VideoJobEntity, variant: ShareVariant): string | null {
  if (variant === "BRANDED") return job.videoMediaId;
  return job.unbrandedVideoMediaId;
}

export type ShareLookup =
  | { state: "missing" }
  | { state: "gone"; link: ShareLinkEntity }
  | {
      state: "active";
      link: ShareLinkEntity;
      job: VideoJobEntity;
      campaign: CampaignEntity;
      videoMediaId: string;
    };

/** Share links: created and revoked by the tenant, resolved by slug on the public page. */
export class ShareLinkService {
  constructor(private readonly dataSource: DataSource) {}

  private get links() {
    return this.dataSource.getRepository(ShareLinkEntity);
  }

  private async job(tenantId: string, jobId: string): Promise<VideoJobEntity> {
    const job = isUuid(jobId)
      ? await this.dataSource.getRepository(VideoJobEntity).findOneBy({ id: jobId, tenantId })
      : null;
    if (!job) throw new AppError("NOT_FOUND", "Video job not found");
    return job;
  }

  async create(
    tenantId: string,
    input: { videoJobId: string; variant?: ShareVariant | null; expiresAt?: Date | null },
    now = new Date(),
  ): Promise<ShareLinkEntity> {
    const job = await this.job(tenantId, input.videoJobId);
    const variant = input.variant ?? "BRANDED";
    if (job.status !== "SUCCEEDED" || !job.videoMediaId) throw badInput("this job has no finished video yet");
    if (!videoMediaIdOf(job, variant)) throw badInput("this job has no unbranded cut");
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime())
      throw badInput("expiresAt must be in the future");
    return await this.links.save(
      this.links.create({
        tenantId,
        jobId: job.id,
        slug: newSlug(),
        variant,
        expiresAt: input.expiresAt ?? null,
      }),
    );
  }

  async list(tenantId: string, jobId: string): Promise<ShareLinkEntity[]> {
    await this.job(tenantId, jobId);
    return await this.links.find({ where: { tenantId, jobId }, order: { createdAt: "DESC" } });
  }

  /** Idempotent: revoking a revoked link keeps its first revocation time. */
  async revoke(tenantId: string, id: string): Promise<ShareLinkEntity> {
    const link = isUuid(id) ? await this.links.findOneBy({ id, tenantId }) : null;
    if (!link) throw new AppError("NOT_FOUND", "Share link not found");
    if (link.revokedAt) return link;
    await this.dataSource.query(
      "UPDATE share_link SET revoked_at = now() WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL",
      [id, tenantId],
    );
    return await this.links.findOneByOrFail({ id });
  }

  /** What `/s/:slug` shows: an active link with its job and campaign, a gone one (410), or nothing. */
  async lookup(slug: string, now = new Date()): Promise<ShareLookup> {
    if (!SLUG_PATTERN.test(slug)) return { state: "missing" };
    const link = await this.links.findOneBy({ slug });
    if (!link) return { state: "missing" };
    if (link.revokedAt || (link.expiresAt && link.expiresAt.getTime() <= now.getTime()))
      return { state: "gone", link };
    const job = await this.dataSource.getRepository(VideoJobEntity).findOneBy({ id: link.jobId });
    const campaign = job
      ? await this.dataSource.getRepository(CampaignEntity).findOneBy({ id: job.campaignId })
      : null;
    const videoMediaId = job ? videoMediaIdOf(job, link.variant as ShareVariant) : null;
    // A job whose video went away (a retried scene mid-assembly) shows as gone until it is back.
    if (!job || !campaign || !videoMediaId) return { state: "gone", link };
    return { state: "active", link, job, campaign, videoMediaId };
  }

  /** A play started: one view. Only active links count; nothing about the viewer is stored. */
  async recordView(slug: string): Promise<boolean> {
    return await this.bump(slug, "views = views + 1", []);
  }

  /** Seconds watched since the last beacon, capped per beacon so a script cannot add hours at once. */
  async recordWatch(slug: string, seconds: number): Promise<boolean> {
    if (!Number.isFinite(seconds) || seconds <= 0) return false;
    return await this.bump(slug, "watch_seconds = watch_seconds + $2", [
      Math.min(seconds, MAX_WATCH_SECONDS_PER_BEACON),
    ]);
  }

  private async bump(slug: string, set: string, params: unknown[]): Promise<boolean> {
    if (!SLUG_PATTERN.test(slug)) return false;
    const result: unknown = await this.dataSource.query(
      `UPDATE share_link SET ${set} WHERE slug = $1 AND revoked_at IS NULL
          AND (expires_at IS NULL OR expires_at > now()) RETURNING id`,
      [slug, ...params],
    );
    return returnedRows(result).length > 0;
  }
}
