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
import { VideoJobEntity } from "./video-job.entity.js";

/**
 * A public link to a job's video (`/s/<slug>`). The slug is 192 random bits; views and watch
 * seconds are plain counters (no IP address, cookie or user agent is stored).
 */
@Entity("share_link")
@Index("share_link_job_created_idx", ["jobId", "createdAt"])
export class ShareLinkEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "share_link_pkey" })
  id!: string;

  @Index("share_link_tenant_idx")
  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "share_link_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "uuid" })
  jobId!: string;

  @ManyToOne(() => VideoJobEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "job_id", foreignKeyConstraintName: "share_link_job_fkey" })
  job?: VideoJobEntity;

  @Index("share_link_slug_key", { unique: true })
  @Column({ type: "text" })
  slug!: string;

  /** `BRANDED` or `UNBRANDED`. */
  @Column({ type: "text", default: "BRANDED" })
  variant!: string;

  @Column({ type: "timestamptz", nullable: true })
  expiresAt!: Date | null;

  @Column({ type: "timestamptz", nullable: true })
  revokedAt!: Date | null;

  @Column({ type: "integer", default: 0 })
  views!: number;

  @Column({ type: "double precision", default: 0 })
  watchSeconds!: number;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;
}
