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
import { WebhookMessageEntity } from "./webhook-message.entity.js";

/** One HTTP attempt at delivering a webhook message: the delivery log's detail. */
@Entity("webhook_attempt")
@Index("webhook_attempt_message_idx", ["messageId", "id"])
export class WebhookAttemptEntity {
  @PrimaryGeneratedColumn("increment", { type: "bigint", primaryKeyConstraintName: "webhook_attempt_pkey" })
  id!: string;

  @Column({ type: "uuid" })
  messageId!: string;

  @ManyToOne(() => WebhookMessageEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "message_id", foreignKeyConstraintName: "webhook_attempt_message_fkey" })
  message?: WebhookMessageEntity;

  @Index("webhook_attempt_tenant_idx")
  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "webhook_attempt_tenant_fkey" })
  tenant?: TenantEntity;

  /** The receiver's HTTP status; null when no answer came (timeout, refused, connection failed). */
  @Column({ type: "integer", nullable: true })
  statusCode!: number | null;

  @Column({ type: "integer" })
  durationMs!: number;

  @Column({ type: "text", nullable: true })
  error!: string | null;

  @Column({ type: "text", nullable: true })
  responseExcerpt!: string | null;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  attemptedAt!: Date;
}
