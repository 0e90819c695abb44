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

/** An API key: only its public prefix and the SHA-256 of the whole key are stored. */
@Entity("api_key")
export class ApiKeyEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "api_key_pkey" })
  id!: string;

  @Index("api_key_tenant_idx")
  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "api_key_tenant_fkey" })
  tenant?: TenantEntity;

  @Index("api_key_prefix_key", { unique: true })
  @Column({ type: "text" })
  prefix!: string;

  /** SHA-256 of the full key, hex. */
  @Column({ type: "text" })
  keyHash!: string;

  @Column({ type: "text" })
  name!: string;

  @Column({ type: "text", array: true, default: () => "'{}'" })
  scopes!: string[];

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;

  @Column({ type: "timestamptz", nullable: true })
  lastUsedAt!: Date | null;

  @Column({ type: "timestamptz", nullable: true })
  revokedAt!: Date | null;
}
