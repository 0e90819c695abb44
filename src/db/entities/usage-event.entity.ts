import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from "typeorm";
import { TenantEntity } from "./tenant.entity.js";

export const USAGE_EVENT_KINDS = [
  /** A job's video, the first time the job succeeded: `videos` 1 and its `rendered_seconds`. */
  "VIDEO_COMPLETED",
  /** A provider's actual charge (a clip, the score, the selection): `provider_cost_usd`. */
  "PROVIDER_CHARGE",
  /** Media bytes stored or deleted (written by the media trigger): `storage_bytes`, ±. */
  "MEDIA_STORED",
  "MEDIA_DELETED",
  /** A photo became READY (written by the asset trigger): `assets` 1. */
  "ASSET_READY",
] as const;
export type UsageEventKind = (typeof USAGE_EVENT_KINDS)[number];

/**
 * Usage as recorded facts, written in the transaction of the change they describe (a job's
 * finish, a charge, a media row's insert or delete, a photo becoming READY) and never updated.
 * `job_id` has no foreign key: usage outlives the jobs and campaigns it came from.
 */
@Entity("usage_event")
@Index("usage_event_tenant_occurred_idx", ["tenantId", "occurredAt"])
@Index("usage_event_video_completed_key", ["jobId"], { unique: true, where: "kind = 'VIDEO_COMPLETED'" })
export class UsageEventEntity {
  @PrimaryGeneratedColumn("increment", { type: "bigint", primaryKeyConstraintName: "usage_event_pkey" })
  id!: string;

  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "usage_event_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "text" })
  kind!: UsageEventKind;

  @Column({ type: "uuid", nullable: true })
  jobId!: string | null;

  @Column({ type: "text", nullable: true })
  provider!: string | null;

  @Column({ type: "integer", default: 0 })
  videos!: number;

  @Column({ type: "numeric", precision: 12, scale: 3, default: 0 })
  renderedSeconds!: string;

  @Column({ type: "numeric", precision: 12, scale: 4, default: 0 })
  providerCostUsd!: string;

  @Column({ type: "bigint", default: 0 })
  storageBytes!: string;

  @Column({ type: "integer", default: 0 })
  assets!: number;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  occurredAt!: Date;
}
