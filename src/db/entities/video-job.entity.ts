import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from "typeorm";
import { CampaignEntity } from "./campaign.entity.js";
import { MediaEntity } from "./media.entity.js";
import { TenantEntity } from "./tenant.entity.js";

export const JOB_STATUSES = [
  "QUEUED",
  "PLANNING",
  "RENDERING",
  "ASSEMBLING",
  "SUCCEEDED",
  "FAILED",
  "CANCELLED",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** The statuses a job ends in: the one list, also passed to SQL (`status = ANY($n)`). */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ["SUCCEEDED", "FAILED", "CANCELLED"];

export function isTerminalJobStatus(status: string): boolean {
  return (TERMINAL_JOB_STATUSES as readonly string[]).includes(status);
}

export const PART_STATUSES = ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"] as const;
export type PartStatus = (typeof PART_STATUSES)[number];

/** What the client asked for, normalised (the idempotency fingerprint is taken over this). */
export interface VideoJobOptions {
  sceneCount: number;
  secondsPerScene: number;
  aspectRatio: string;
  mood: string;
  selector: string;
  videoProvider: string;
  musicProvider: string;
  /**
   * Titles, captions, disclosure and outro, in two cuts. Absent in jobs made before the
   * on-screen layer existed: those keep making the plain video their score was mastered for.
   */
  overlays?: boolean;
  /** The listing template (JUST_LISTED …); set when `overlays`. */
  template?: string;
  /** Room captions on the scenes after the first. */
  captions?: boolean;
  /** OPEN_HOUSE: ISO 8601 instants. */
  openHouse?: { startsAt: string; endsAt: string } | null;
  /** PRICE_REDUCED: the price before the reduction, whole currency units. */
  previousPrice?: number | null;
}

export interface CostItemColumns {
  kind: string;
  sceneIndex: number | null;
  provider: string;
  units: number;
  unit: string;
  unitPriceUsd: number;
  usd: number;
  note?: string;
}

/** One request for a video: the pipeline's state, options, cost and results. */
@Entity("video_job")
@Index("video_job_campaign_created_idx", ["campaignId", "createdAt", "id"])
@Index("video_job_tenant_status_idx", ["tenantId", "status"])
@Index("video_job_tenant_idempotency_key", ["tenantId", "idempotencyKey"], {
  unique: true,
  where: "idempotency_key IS NOT NULL",
})
export class VideoJobEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "video_job_pkey" })
  id!: string;

  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "video_job_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "uuid" })
  campaignId!: string;

  @ManyToOne(() => CampaignEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "campaign_id", foreignKeyConstraintName: "video_job_campaign_fkey" })
  campaign?: CampaignEntity;

  @Column({ type: "text", default: "QUEUED" })
  status!: JobStatus;

  /** Finer-grained than status, for progress displays (e.g. `selecting`, `scoring`, `muxing`). */
  @Column({ type: "text", nullable: true })
  stage!: string | null;

  @Column({ type: "real", default: 0 })
  progress!: number;

  @Column({ type: "jsonb" })
  options!: VideoJobOptions;

  @Column({ type: "text", nullable: true })
  idempotencyKey!: string | null;

  /** SHA-256 of the normalised input: same key + different input is a CONFLICT. */
  @Column({ type: "text" })
  inputHash!: string;

  @Column({ type: "jsonb", default: () => "'[]'" })
  estimatedCost!: CostItemColumns[];

  @Column({ type: "jsonb", default: () => "'[]'" })
  cost!: CostItemColumns[];

  @Column({ type: "text", nullable: true })
  errorCode!: string | null;

  @Column({ type: "text", nullable: true })
  error!: string | null;

  @Column({ type: "text", default: "PENDING" })
  scoreStatus!: PartStatus;

  @Column({ type: "real", default: 0 })
  scoreProgress!: number;

  @Column({ type: "text", nullable: true })
  scoreError!: string | null;

  @Column({ type: "uuid", nullable: true })
  scoreMediaId!: string | null;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "score_media_id", foreignKeyConstraintName: "video_job_score_media_fkey" })
  scoreMedia?: MediaEntity;

  @Column({ type: "uuid", nullable: true })
  videoMediaId!: string | null;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "video_media_id", foreignKeyConstraintName: "video_job_video_media_fkey" })
  videoMedia?: MediaEntity;

  @Column({ type: "uuid", nullable: true })
  posterMediaId!: string | null;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "poster_media_id", foreignKeyConstraintName: "video_job_poster_media_fkey" })
  posterMedia?: MediaEntity;

  /** The MLS-safe cut: no agent, brokerage, contact, logo or QR code (same poster, length and size). */
  @Column({ type: "uuid", nullable: true })
  unbrandedVideoMediaId!: string | null;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({
    name: "unbranded_video_media_id",
    foreignKeyConstraintName: "video_job_unbranded_video_media_fkey",
  })
  unbrandedVideoMedia?: MediaEntity;

  /** WebVTT of what the branded cut shows. */
  @Column({ type: "uuid", nullable: true })
  captionsMediaId!: string | null;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "captions_media_id", foreignKeyConstraintName: "video_job_captions_media_fkey" })
  captionsMedia?: MediaEntity;

  /** WebVTT of what the unbranded cut shows. */
  @Column({ type: "uuid", nullable: true })
  unbrandedCaptionsMediaId!: string | null;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({
    name: "unbranded_captions_media_id",
    foreignKeyConstraintName: "video_job_unbranded_captions_media_fkey",
  })
  unbrandedCaptionsMedia?: MediaEntity;

  /** The AI-disclosure label the video showed; null when no scene came from a generative model. */
  @Column({ type: "text", nullable: true })
  aiDisclosure!: string | null;

  /** The final mixed soundtrack (normalised), kept for re-assembly after a scene re-roll. */
  @Column({ type: "uuid", nullable: true })
  audioMediaId!: string | null;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "audio_media_id", foreignKeyConstraintName: "video_job_audio_media_fkey" })
  audioMedia?: MediaEntity;

  @Column({ type: "real", nullable: true })
  durationSeconds!: number | null;

  @Column({ type: "integer", nullable: true })
  width!: number | null;

  @Column({ type: "integer", nullable: true })
  height!: number | null;

  /** Bumped by every re-assembly so a stale assemble job can tell it is stale. */
  @Column({ type: "integer", default: 0 })
  assemblyGeneration!: number;

  /** Highest `job_event.sequence` appended for this job. */
  @Column({ type: "integer", default: 0 })
  lastSequence!: number;

  @Column({ type: "timestamptz", nullable: true })
  cancelRequestedAt!: Date | null;

  /**
   * When the job got one of its tenant's slots (the tenant's concurrent-jobs quota). Null while
   * it waits QUEUED with stage `waiting_for_slot`; set at creation when a slot is free.
   */
  @Column({ type: "timestamptz", nullable: true })
  admittedAt!: Date | null;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ type: "timestamptz" })
  updatedAt!: Date;

  @Column({ type: "timestamptz", nullable: true })
  startedAt!: Date | null;

  @Column({ type: "timestamptz", nullable: true })
  finishedAt!: Date | null;
}
