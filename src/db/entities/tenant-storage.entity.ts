import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from "typeorm";
import { TenantEntity } from "./tenant.entity.js";

/**
 * Bytes a tenant stores, maintained by the `media_storage_usage` trigger (migration
 * 1765500000000) in the transaction that inserts or deletes a media row: the counter the storage
 * quota is checked against. Its row lock serialises a tenant's concurrent stores between the
 * insert and the commit, so two uploads cannot both pass the check with the room of one.
 */
@Entity("tenant_storage")
export class TenantStorageEntity {
  @PrimaryColumn({ type: "uuid", primaryKeyConstraintName: "tenant_storage_pkey" })
  tenantId!: string;

  @OneToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "tenant_storage_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "bigint", default: 0 })
  storedBytes!: string;
}
