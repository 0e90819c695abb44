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
import { AssetEntity } from "./asset.entity.js";
import { MediaEntity } from "./media.entity.js";
import { TenantEntity } from "./tenant.entity.js";
import { type PartStatus, VideoJobEntity } from "./video-job.entity.js";

/** An overlay burned into a scene's clip, and what it said (the captions track is built from these). */
export interface SceneOverlayColumns {
  kind: "title" | "caption" | "disclosure";
  /** Seconds from the clip's start. */
  start: number;
  end: number;
  lines: string[];
}

/** One scene of a job: its photo pair, camera move, provider call and clip. */
@Entity("scene")
@Index("scene_job_index_key", ["jobId", "index"], { unique: true })
export class SceneEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "scene_pkey" })
  id!: string;

  @Column({ type: "uuid" })
  jobId!: string;

  @ManyToOne(() => VideoJobEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "job_id", foreignKeyConstraintName: "scene_job_fkey" })
  job?: VideoJobEntity;

  @Index("scene_tenant_idx")
  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "scene_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "integer" })
  index!: number;

  @Column({ type: "text" })
  sceneType!: string;

  @Index("scene_first_asset_idx")
  @Column({ type: "uuid", nullable: true })
  firstAssetId!: string | null;

  @ManyToOne(() => AssetEntity, { onDelete: "SET NULL" })
  @JoinColumn({ name: "first_asset_id", foreignKeyConstraintName: "scene_first_asset_fkey" })
  firstAsset?: AssetEntity;

  @Index("scene_last_asset_idx")
  @Column({ type: "uuid", nullable: true })
  lastAssetId!: string | null;

  @ManyToOne(() => AssetEntity, { onDelete: "SET NULL" })
  @JoinColumn({ name: "last_asset_id", foreignKeyConstraintName: "scene_last_asset_fkey" })
  lastAsset?: AssetEntity;

  @Column({ type: "text", nullable: true })
  cameraMove!: string | null;

  @Column({ type: "text", nullable: true })
  prompt!: string | null;

  @Column({ type: "text", nullable: true })
  provider!: string | null;

  /** The provider's id for the work (e.g. a prediction id), stored before waiting on it. */
  @Column({ type: "text", nullable: true })
  providerRef!: string | null;

  /** Per-attempt token given to the provider (webhook URL / metadata) to recognise our own calls. */
  @Column({ type: "text", nullable: true })
  attemptToken!: string | null;

  @Column({ type: "text", default: "PENDING" })
  status!: PartStatus;

  @Column({ type: "real", default: 0 })
  progress!: number;

  @Column({ type: "integer", default: 0 })
  attempts!: number;

  @Index("scene_clip_media_idx")
  @Column({ type: "uuid", nullable: true })
  clipMediaId!: string | null;

  @ManyToOne(() => MediaEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "clip_media_id", foreignKeyConstraintName: "scene_clip_media_fkey" })
  clipMedia?: MediaEntity;

  @Column({ type: "numeric", precision: 12, scale: 4, default: 0 })
  costUsd!: string;

  /** What the clip shows on top of the photos (title, room caption, AI disclosure), burned in its encode. */
  @Column({ type: "jsonb", default: () => "'[]'" })
  overlays!: SceneOverlayColumns[];

  @Column({ type: "real", nullable: true })
  confidence!: number | null;

  @Column({ type: "text", nullable: true })
  reasoning!: string | null;

  @Column({ type: "text", nullable: true })
  errorCode!: string | null;

  @Column({ type: "text", nullable: true })
  error!: string | null;

  @Column({ type: "timestamptz", nullable: true })
  startedAt!: Date | null;

  @Column({ type: "timestamptz", nullable: true })
  finishedAt!: Date | null;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ type: "timestamptz" })
  updatedAt!: Date;
}
