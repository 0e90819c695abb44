import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from "typeorm";

/** An account. Every other row carries `tenant_id` and every query is scoped by it. */
@Entity("tenant")
export class TenantEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "tenant_pkey" })
  id!: string;

  @Index("tenant_name_key", { unique: true })
  @Column({ type: "text" })
  name!: string;

  /** The label shown on scenes from a generative model; null: the default text. */
  @Column({ type: "text", nullable: true })
  aiDisclosureText!: string | null;

  @CreateDateColumn({ type: "timestamptz", precision: 3 })
  createdAt!: Date;
}
