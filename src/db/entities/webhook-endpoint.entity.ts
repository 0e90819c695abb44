import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from "typeorm";
import { TenantEntity } from "./tenant.entity.js";

/**
 * A partner's URL for outbound webhooks (Standard Webhooks). The signing secret is stored
 * encrypted (src/webhooks/webhook-secrets.ts): we must sign with it, so a hash would not do.
 */
@Entity("webhook_endpoint")
@Index("webhook_endpoint_tenant_created_idx", ["tenantId", "createdAt", "id"])
export class WebhookEndpointEntity {
  /** Chosen before the insert: the secret's encryption is bound to it. */
  @PrimaryColumn({ type: "uuid", primaryKeyConstraintName: "webhook_endpoint_pkey" })
  id!: string;

  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "webhook_endpoint_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "text" })
  url!: string;

  @Column({ type: "text", nullable: true })
  description!: string | null;

  /** The event types it receives (`WebhookEventType` names: `VIDEO_JOB_SUCCEEDED`, …). */
  @Column({ type: "text", array: true, default: () => "'{}'" })
  events!: string[];

  @Column({ type: "boolean", default: true })
  enabled!: boolean;

  /** Why it was disabled (by us after 5 days of failures, or by the tenant); shown to the tenant. */
  @Column({ type: "text", nullable: true })
  disabledReason!: string | null;

  @Column({ type: "timestamptz", nullable: true })
  disabledAt!: Date | null;

  /** When the current run of failed attempts began; null after a success. */
  @Column({ type: "timestamptz", nullable: true })
  failingSince!: Date | null;

  @Column({ type: "text" })
  secretCiphertext!: string;

  /** The secret before the last rotation: deliveries are signed with it too until it expires. */
  @Column({ type: "text", nullable: true })
  previousSecretCiphertext!: string | null;

  @Column({ type: "timestamptz", nullable: true })
  previousSecretExpiresAt!: Date | null;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ type: "timestamptz" })
  updatedAt!: Date;
}
