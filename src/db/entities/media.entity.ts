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

/**
 * Immutable bytes in a PostgreSQL large object. Deduplicated per tenant by SHA-256.
 * Deleting the row unlinks the large object (trigger `media_unlink_lo`, in the migration).
 */
@Entity("media")
@Index("media_tenant_sha256_key", ["tenantId", "sha256"], { unique: true })
export class MediaEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "media_pkey" })
  id!: string;

  @Column({ type: "uuid" })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "media_tenant_fkey" })
  tenant?: TenantEntity;

  /** The large object's oid (PostgreSQL `oid`, held as bigint because TypeORM has no oid type). */
  @Index("media_lo_oid_key", { unique: true })
  @Column({ type: "bigint" })
  loOid!: string;

  @Column({ type: "bigint" })
  byteSize!: string;

  /** Hex SHA-256 of the bytes: dedupe key and strong ETag. */
  @Column({ type: "text" })
  sha256!: string;

  @Column({ type: "text" })
  contentType!: string;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;
}
