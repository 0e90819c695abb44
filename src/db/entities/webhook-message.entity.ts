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
import { WebhookEndpointEntity } from "./webhook-endpoint.entity.js";

export const WEBHOOK_MESSAGE_STATUSES = ["PENDING", "DELIVERED", "FAILED"] as const;
export type WebhookMessageStatus = (typeof WEBHOOK_MESSAGE_STATUSES)[number];

/** Media in a message's body that is signed afresh at every attempt: field of `data.video` → media id. */
export type SignedMediaColumns = Record<string, string>;

/**
 * The outbox: one event for one endpoint, written in the transaction of the state change that
 * caused it. Its id is the `webhook-id` of every attempt (`msg_` + the id without dashes).
 * (The `webhook_delivery` table is the other direction: inbound Replicate webhooks.)
 */
@Entity("webhook_message")
@Index("webhook_message_endpoint_created_idx", ["endpointId", "createdAt", "id"])
export class WebhookMessageEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "webhook_message_pkey" })
  id!: string;

  @Index("webhook_message_tenant_idx")
  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "webhook_message_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "uuid" })
  endpointId!: string;

  @ManyToOne(() => WebhookEndpointEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "endpoint_id", foreignKeyConstraintName: "webhook_message_endpoint_fkey" })
  endpoint?: WebhookEndpointEntity;

  /** The body's `type`, e.g. `video_job.succeeded`. */
  @Column({ type: "text" })
  eventType!: string;

  /** The body: `{ type, timestamp, data }`, minus the signed URLs (see signedMedia). */
  @Column({ type: "jsonb" })
  payload!: Record<string, unknown>;

  @Column({ type: "jsonb", default: () => "'{}'" })
  signedMedia!: SignedMediaColumns;

  @Column({ type: "text", default: "PENDING" })
  status!: WebhookMessageStatus;

  /** Bumped by a redelivery: a delivery job of an older generation finds nothing to do. */
  @Column({ type: "integer", default: 1 })
  generation!: number;

  /** False after a manual redelivery: that is one attempt, not a new schedule. */
  @Column({ type: "boolean", default: true })
  autoRetry!: boolean;

  @Column({ type: "integer", default: 0 })
  attempts!: number;

  @Column({ type: "integer", nullable: true })
  lastStatusCode!: number | null;

  /** The start of the receiver's last answer (bounded). */
  @Column({ type: "text", nullable: true })
  lastResponse!: string | null;

  @Column({ type: "text", nullable: true })
  lastError!: string | null;

  @Column({ type: "timestamptz", nullable: true })
  lastAttemptAt!: Date | null;

  @Column({ type: "timestamptz", nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ type: "timestamptz", nullable: true })
  deliveredAt!: Date | null;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;
}
