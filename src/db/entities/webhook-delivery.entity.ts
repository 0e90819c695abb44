import { Column, CreateDateColumn, Entity, PrimaryColumn } from "typeorm";

/** Provider webhook deliveries already handled, by `webhook-id`: the same delivery twice has one effect. */
@Entity("webhook_delivery")
export class WebhookDeliveryEntity {
  @PrimaryColumn({ type: "text", primaryKeyConstraintName: "webhook_delivery_pkey" })
  id!: string;

  @Column({ type: "text" })
  provider!: string;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  receivedAt!: Date;
}
