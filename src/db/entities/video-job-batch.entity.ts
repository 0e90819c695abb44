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

/** Video jobs created together by `createVideoJobs` (all or none); complete when every job has ended. */
@Entity("video_job_batch")
@Index("video_job_batch_tenant_idempotency_key", ["tenantId", "idempotencyKey"], {
  unique: true,
  where: "idempotency_key IS NOT NULL",
})
export class VideoJobBatchEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "video_job_batch_pkey" })
  id!: string;

  @Index("video_job_batch_tenant_idx")
  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "video_job_batch_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "text", nullable: true })
  idempotencyKey!: string | null;

  /** SHA-256 over the inputs' fingerprints: same key + other inputs is a CONFLICT. */
  @Column({ type: "text" })
  inputHash!: string;

  @Column({ type: "integer" })
  jobCount!: number;

  /** Set once, by the transition that ended the batch's last job (BATCH_COMPLETED is written with it). */
  @Column({ type: "timestamptz", nullable: true })
  completedAt!: Date | null;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;
}
