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

/** Append-only progress log: the source of truth for subscriptions (snapshot + resume) and audit. */
@Entity("job_event")
@Index("job_event_job_sequence_key", ["jobId", "sequence"], { unique: true })
@Index("job_event_campaign_idx", ["campaignId", "id"])
export class JobEventEntity {
  @PrimaryGeneratedColumn("increment", { type: "bigint", primaryKeyConstraintName: "job_event_pkey" })
  id!: string;

  @Column({ type: "uuid" })
  jobId!: string;

  @ManyToOne(() => VideoJobEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "job_id", foreignKeyConstraintName: "job_event_job_fkey" })
  job?: VideoJobEntity;

  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "job_event_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "uuid" })
  campaignId!: string;

  @Column({ type: "integer" })
  sequence!: number;

  @Column({ type: "text" })
  type!: string;

  @Column({ type: "jsonb", default: () => "'{}'" })
  payload!: Record<string, unknown>;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;
}
