import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from "typeorm";
import { TenantEntity } from "./tenant.entity.js";

/**
 * A tenant's own quotas, set by an operator (`propvid tenants set-quota`). A null column means
 * the server's default for that quota (config `TENANT_MAX_*`).
 */
@Entity("tenant_quota")
export class TenantQuotaEntity {
  @PrimaryColumn({ type: "uuid", primaryKeyConstraintName: "tenant_quota_pkey" })
  tenantId!: string;

  @OneToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "tenant_quota_tenant_fkey" })
  tenant?: TenantEntity;

  @Column({ type: "bigint", nullable: true })
  maxStorageBytes!: string | null;

  @Column({ type: "integer", nullable: true })
  maxVideosPerMonth!: number | null;

  @Column({ type: "integer", nullable: true })
  maxConcurrentJobs!: number | null;

  @UpdateDateColumn({ type: "timestamptz" })
  updatedAt!: Date;
}
